"""Reviewer actions on a draft: approve, reject, edit. One of two racing actions wins; the other gets 409.

Each decision reads the draft in one short transaction, decides (and, for an edit, re-runs every guardrail)
outside any transaction, then writes in a fresh transaction whose first statement is a compare-and-set
``UPDATE drafts … WHERE id = ? AND version = ? AND status = 'pending_review'``. Zero rows updated means someone
else decided first. Starting the write transaction with the UPDATE matters on SQLite: a transaction that read
first cannot take the write lock after another writer committed, while one that writes first simply waits.
The audit event is inserted in the same transaction as the UPDATE, so the loser leaves no trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content.drafts.recheck import stored_check_context, stored_variant
from copyloom.content.engine import ContentEngine
from copyloom.contracts.enums import Channel, DraftEventKind, DraftStatus
from copyloom.contracts.variants import CONTENT_MODELS
from copyloom.db import write
from copyloom.domain.drafts import compare_and_set, load_draft, record_draft_event
from copyloom.errors import Conflict, InvalidInput
from copyloom.guardrails.pipeline import run_checks
from copyloom.guardrails.types import GuardrailReport, Verdict
from copyloom.models import Draft, utcnow
from copyloom.review.diff import content_diff
from copyloom.review.queue import flagged_checks
from copyloom.review.schemas import ApproveBody, EditBody, RejectBody

log = logging.getLogger("copyloom.review")
T = TypeVar("T")
EDIT_FLAG_PRIORITY = 3


def _in_session(factory: sessionmaker[Session], fn: Callable[[Session], T]) -> T:
    with write(factory) as session:
        return fn(session)


def _read(factory: sessionmaker[Session], workspace_id: str, draft_id: str) -> Draft:
    # expire_on_commit=False: the row's attributes stay readable after its session closes.
    return _in_session(factory, lambda s: load_draft(s, workspace_id, draft_id))


def _ensure_pending(draft: Draft, expected_version: int | None) -> None:
    if draft.status == DraftStatus.BLOCKED:
        raise Conflict("a blocked draft can never be approved or changed", code="draft_blocked")
    if draft.status != DraftStatus.PENDING_REVIEW:
        raise Conflict(f"the draft was already reviewed (status {draft.status})", code="already_reviewed")
    if expected_version is not None and expected_version != draft.version:
        raise Conflict(
            f"the draft changed since you saw it (version {expected_version}, now {draft.version})",
            code="stale_version",
            details={"version": draft.version},
        )


def approve(
    factory: sessionmaker[Session], workspace_id: str, draft_id: str, body: ApproveBody, *, actor: str
) -> Draft:
    """Approve a pending draft; every flagged check must be named in ``acknowledged_flags``."""
    seen = _read(factory, workspace_id, draft_id)
    _ensure_pending(seen, body.expected_version)
    flags = flagged_checks(seen.guardrail_report)
    missing = [f for f in flags if f not in set(body.acknowledged_flags)]
    if missing:
        raise InvalidInput(
            f"acknowledge every flagged check before approving: {', '.join(missing)}",
            code="unacknowledged_flags",
            field="acknowledged_flags",
            details={"missing": missing},
        )

    def _write(session: Session) -> Draft:
        draft = compare_and_set(session, seen, {"status": DraftStatus.APPROVED, "review_reason": None})
        data = {"comment": body.comment, "acknowledged_flags": flags, "version": seen.version}
        record_draft_event(
            session, workspace_id=workspace_id, draft_id=draft_id, kind=DraftEventKind.APPROVED, actor=actor, data=data
        )
        return draft

    draft = _in_session(factory, _write)
    log.info("review.draft.approved", extra={"draft_id": draft_id, "workspace_id": workspace_id})
    return draft


def reject(factory: sessionmaker[Session], workspace_id: str, draft_id: str, body: RejectBody, *, actor: str) -> Draft:
    seen = _read(factory, workspace_id, draft_id)
    _ensure_pending(seen, body.expected_version)

    def _write(session: Session) -> Draft:
        draft = compare_and_set(session, seen, {"status": DraftStatus.REJECTED})
        data = {"reason_code": body.reason_code.value, "comment": body.comment, "version": seen.version}
        record_draft_event(
            session, workspace_id=workspace_id, draft_id=draft_id, kind=DraftEventKind.REJECTED, actor=actor, data=data
        )
        return draft

    draft = _in_session(factory, _write)
    log.info("review.draft.rejected", extra={"draft_id": draft_id, "reason_code": body.reason_code.value})
    return draft


def validate_content(channel: str, content: dict[str, Any]) -> dict[str, Any]:
    """The edited content in the channel's schema (422 naming the first bad field)."""
    if content.get("channel", channel) != channel:
        raise InvalidInput(f"this is a {channel} draft; the content must stay {channel}", field="content.channel")
    model = CONTENT_MODELS[Channel(channel)]
    try:
        return model.model_validate({**content, "channel": channel}).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("content", *first["loc"]))
        raise InvalidInput(f"{where}: {first['msg']}", code="invalid_content", field=where) from exc


class EditRefused(InvalidInput):
    """The edited copy failed a blocking guardrail; nothing was stored."""

    def __init__(self, report: GuardrailReport) -> None:
        names = ", ".join(sorted({r.check for r in report.blocking}))
        super().__init__(
            f"the edit was refused: blocked by {names}",
            code="edit_blocked",
            field="content",
            details={"report": report.model_dump(mode="json")},
        )
        self.report = report


def edit(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    workspace_id: str,
    draft_id: str,
    body: EditBody,
    *,
    actor: str,
    now: datetime | None = None,
) -> Draft:
    """Re-run every guardrail on the edited copy with the draft's stored facts bundle.

    Passing → approved. Flagged → stays pending with the new report (approve then needs the acknowledgements).
    Blocked → ``EditRefused`` (422) and nothing changes.
    """
    now = now or utcnow()

    def _load(session: Session) -> tuple[Draft, Any]:
        draft = load_draft(session, workspace_id, draft_id)
        return draft, stored_check_context(draft, engine.lookups(session, workspace_id), now)

    seen, ctx = _in_session(factory, _load)
    _ensure_pending(seen, body.expected_version)
    content = validate_content(seen.channel, body.content)
    if content == seen.content:
        raise InvalidInput("the edit changes nothing", code="unchanged", field="content")
    report = run_checks(stored_variant(seen, content), ctx)
    if report.verdict is Verdict.BLOCK:
        raise EditRefused(report)
    diff = content_diff(seen.content, content)
    flags = sorted({r.check for r in report.flags})
    reason = f"flagged by {', '.join(flags)} after a reviewer's edit" if flags else None
    values: dict[str, Any] = {
        "content": content,
        "guardrail_report": report.model_dump(mode="json"),
        "verdict": report.verdict.value,
        "status": DraftStatus.PENDING_REVIEW if flags else DraftStatus.APPROVED,
        "review_reason": reason,
    }
    if flags:
        values["review_priority"] = EDIT_FLAG_PRIORITY

    def _write(session: Session) -> Draft:
        draft = compare_and_set(session, seen, values)
        common = {"workspace_id": workspace_id, "draft_id": draft_id}
        record_draft_event(
            session,
            **common,
            kind=DraftEventKind.EDITED,
            actor=actor,
            data={"diff": diff, "comment": body.comment, "version": seen.version},
        )
        checks = {r.check: r.verdict.value for r in report.results}
        record_draft_event(
            session,
            **common,
            kind=DraftEventKind.CHECKED,
            actor="system",
            data={"verdict": report.verdict.value, "checks": checks, "after_edit": True},
        )
        if flags:
            record_draft_event(session, **common, kind=DraftEventKind.QUEUED, actor="system", data={"reason": reason})
        else:
            record_draft_event(
                session,
                **common,
                kind=DraftEventKind.APPROVED,
                actor=actor,
                data={"via": "edit", "comment": body.comment},
            )
        return draft

    draft = _in_session(factory, _write)
    log.info("review.draft.edited", extra={"draft_id": draft_id, "verdict": report.verdict.value})
    return draft
