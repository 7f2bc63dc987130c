"""Keeping the vector index in step with the data: a task that indexes what changed in one workspace."""

from __future__ import annotations

import logging
from typing import Any

from copyloom.content.tasks import TaskContext, task
from copyloom.db import write
from copyloom.retrieval.indexer import index_workspace

log = logging.getLogger("copyloom.indexing")
INDEX_TASK = "index.workspace"


@task(INDEX_TASK)
def reindex_workspace(ctx: TaskContext, payload: dict[str, Any]) -> None:
    """Embed new or changed products, notes and knowledge; drop what is gone (incremental, cheap when idle)."""
    workspace_id = str(payload["workspace_id"])
    with write(ctx.session_factory) as session:
        report = index_workspace(session, ctx.engine.store, ctx.engine.embedder, workspace_id)
    log.info(
        "content.index.updated",
        extra={
            "workspace": workspace_id,
            "embedded": report.embedded,
            "deleted": report.deleted,
            "unchanged": report.unchanged,
        },
    )
