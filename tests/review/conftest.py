"""Review fixtures: real drafts from the offline generator on the demo workspace, and precise variants of them.

``stage`` clones a real draft (so it keeps a real facts bundle) with new copy, re-running every guardrail on it,
so that a test gets exactly the flagged, blocked or passing draft it needs, with real evidence spans.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content.drafts.recheck import stored_check_context, stored_variant
from copyloom.content.engine import ContentEngine
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.drafts import record_draft_event
from copyloom.guardrails.pipeline import run_checks
from copyloom.models import Draft, new_id, utcnow
from tests.conftest import auth

Stage = Callable[..., str]


@pytest.fixture
def review_engine(content_engine: ContentEngine) -> ContentEngine:
    """The shared content engine (root conftest) on the demo workspace."""
    return content_engine


@pytest.fixture
def generate(
    client: TestClient, keys: dict[Role, str], review_engine: ContentEngine
) -> Callable[..., list[dict[str, Any]]]:
    """POST /v1/drafts as a marketer; returns the created drafts."""

    def _generate(
        customer_id: str = "C1001", channels: tuple[str, ...] = ("sms",), variants: int = 1
    ) -> list[dict[str, Any]]:
        body = {
            "customer_id": customer_id,
            "channels": list(channels),
            "brief": {"goal": "cross_sell", "instructions": "New gear for spring hikes"},
            "variants": variants,
        }
        resp = client.post("/v1/drafts", json=body, headers=auth(keys[Role.MARKETER]))
        assert resp.status_code == 201, resp.text
        drafts: list[dict[str, Any]] = resp.json()["drafts"]
        assert drafts, resp.json()
        return drafts

    return _generate


@pytest.fixture
def stage(session_factory: sessionmaker[Session], review_engine: ContentEngine) -> Stage:
    """Clone draft ``source_id`` with new ``content``; every check runs on it; returns the new draft id.

    The status follows the verdict (block → blocked, otherwise pending_review) unless ``status`` is given.
    """

    def _stage(
        source_id: str,
        content: dict[str, Any] | None = None,
        *,
        status: str | None = None,
        priority: int | None = None,
        age_minutes: float = 0.0,
        campaign_id: str | None = None,
        workspace_id: str | None = None,
    ) -> str:
        with write(session_factory) as session:
            src = session.get(Draft, source_id)
            assert src is not None
            body = {**(content or src.content), "channel": src.channel}
            ctx = stored_check_context(src, review_engine.lookups(session, src.workspace_id), utcnow())
            report = run_checks(stored_variant(src, body), ctx)
            verdict = report.verdict.value
            created: datetime = utcnow() - timedelta(minutes=age_minutes)
            draft = Draft(
                id=new_id(),
                workspace_id=workspace_id or src.workspace_id,
                customer_id=src.customer_id,
                campaign_id=campaign_id,
                request_id=new_id(),
                channel=src.channel,
                locale=src.locale,
                angle=src.angle,
                goal=src.goal,
                brief=src.brief,
                content={**body, "channel": src.channel},
                status=status or ("blocked" if verdict == "block" else "pending_review"),
                verdict=verdict,
                guardrail_report=report.model_dump(mode="json"),
                cited_fact_ids=src.cited_fact_ids,
                bundle=src.bundle,
                generator=src.generator,
                review_reason=f"staged ({verdict})",
                review_priority=priority if priority is not None else {"flag": 3, "block": 0}.get(verdict, 1),
                created_at=created,
                updated_at=created,
            )
            session.add(draft)
            session.flush()
            record_draft_event(
                session, workspace_id=draft.workspace_id, draft_id=draft.id, kind="generated", actor="test"
            )
            return draft.id

    return _stage
