"""Concurrent decisions for one customer and channel against a real server: fatigue holds, exactly one send.

Decisions read without the write lock and write briefly; a send that raced another send must be decided again.
Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.config import Settings
from copyloom.db import session_scope
from copyloom.domain.enums import Role
from copyloom.models import ContactRecord, Decision
from tests.conftest import auth
from tests.review.live import serve

pytestmark = pytest.mark.store
RACERS = 6


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """As many threads as racers run decisions at once. SQLite's default is one per process, which would
    serialize the race here; several server processes (or a database server's default) race for real."""
    return settings.model_copy(update={"decision_db_threads": RACERS})


def test_simultaneous_decisions_for_one_customer_send_once(
    app: Any,
    client: TestClient,
    keys: dict[Role, str],
    approved_campaign: Callable[..., str],
    session_factory: sessionmaker[Session],
) -> None:
    campaign = {"id": approved_campaign(["C1001"], ["in_app"], variants=2)}
    barrier = threading.Barrier(RACERS)
    answers: list[dict[str, Any]] = [{} for _ in range(RACERS)]

    def decide(i: int, base: str) -> None:
        body = {
            "campaign_id": campaign["id"],
            "customer_id": "C1001",
            "channel": "in_app",
            "idempotency_key": f"race-{i}",
        }
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            answers[i] = http.post("/v1/decisions", json=body, headers=auth(keys[Role.JOURNEY])).json()

    with serve(app) as base:
        threads = [threading.Thread(target=decide, args=(i, base)) for i in range(RACERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    decisions = sorted(a["decision"] for a in answers)
    assert decisions == ["send"] + ["suppress"] * (RACERS - 1), answers
    assert {a["reason_code"] for a in answers if a["decision"] == "suppress"} <= {
        "fatigue_min_gap",
        "decision_contended",
    }
    with session_scope(session_factory) as s:
        sent = s.scalar(
            select(func.count())
            .select_from(ContactRecord)
            .where(ContactRecord.campaign_id == campaign["id"], ContactRecord.kind == "sent")
        )
        stored = s.scalar(select(func.count()).select_from(Decision).where(Decision.campaign_id == campaign["id"]))
    assert sent == 1 and stored == RACERS


def test_simultaneous_retries_with_one_key_get_one_answer(
    app: Any,
    client: TestClient,
    keys: dict[Role, str],
    approved_campaign: Callable[..., str],
    session_factory: sessionmaker[Session],
) -> None:
    campaign = {"id": approved_campaign(["C2001"], ["in_app"])}
    barrier = threading.Barrier(RACERS)
    answers: list[dict[str, Any]] = [{} for _ in range(RACERS)]
    body = {"campaign_id": campaign["id"], "customer_id": "C2001", "channel": "in_app", "idempotency_key": "same"}

    def decide(i: int, base: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            answers[i] = http.post("/v1/decisions", json=body, headers=auth(keys[Role.JOURNEY])).json()

    with serve(app) as base:
        threads = [threading.Thread(target=decide, args=(i, base)) for i in range(RACERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len({a["decision_id"] for a in answers}) == 1, answers
    assert answers[0]["decision"] == "send"
    with session_scope(session_factory) as s:
        sent = s.scalar(
            select(func.count()).select_from(ContactRecord).where(ContactRecord.campaign_id == campaign["id"])
        )
    assert sent == 1
