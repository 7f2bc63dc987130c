"""Concurrent decisions for one customer and channel against a real server: fatigue holds, exactly one send.

Decisions read without the write lock and write briefly; a send that raced another send must be decided again.
Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.config import Settings
from copyloom.content.journey.outcomes import record_outcome
from copyloom.content.journey.schemas import DecisionRequest, OutcomeIn
from copyloom.content.journey.service import decide
from copyloom.contracts.enums import Channel, Role
from copyloom.db import write
from copyloom.models import ContactRecord, Decision, utcnow
from tests.conftest import auth
from tests.invariants.world import WS, World, engine_for, seed_world
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
    with write(session_factory) as s:
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
    assert answers[0]["decision"] == "send", answers[0]
    with write(session_factory) as s:
        sent = s.scalar(
            select(func.count()).select_from(ContactRecord).where(ContactRecord.campaign_id == campaign["id"])
        )
    assert sent == 1


def _decide_in_threads(
    settings: Settings, factory: sessionmaker[Session], world: World, customer: str, channel: str, n: int
) -> list[str]:
    """``n`` decisions at once for one customer and channel, each in its own thread and event loop."""
    engine = engine_for(settings)
    barrier = threading.Barrier(n)
    answers: list[str] = [""] * n

    def one(i: int) -> None:
        req = DecisionRequest(
            campaign_id=world.campaign_id, customer_id=customer, channel=Channel(channel), idempotency_key=f"p{i}"
        )
        barrier.wait()
        answers[i] = asyncio.run(decide(engine, factory, WS, req)).decision

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _sends(factory: sessionmaker[Session], channel: str, after: datetime | None = None) -> int:
    with write(factory) as s:
        q = select(func.count()).select_from(ContactRecord).where(ContactRecord.channel == channel)
        if after is not None:
            q = q.where(ContactRecord.created_at > after)
        return int(s.scalar(q) or 0)


def test_parallel_control_decisions_for_one_customer_send_once(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """The control path writes through the one writer of sends: the 24 h email gap holds (it once sent 50)."""
    world = seed_world(session_factory)
    control_only = world.customers[-1]  # has no personalized variant: every answer is the control or nothing
    answers = _decide_in_threads(settings, session_factory, world, control_only, "email", RACERS)
    assert sorted(answers) == ["send"] + ["suppress"] * (RACERS - 1)
    assert _sends(session_factory, "email") == 1


def test_no_send_is_committed_after_an_unsubscribe_returns(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """Decisions race an unsubscribe on a channel without fatigue limits: once the outcome is stored, no send
    for that channel may follow (29 control sends once did)."""
    world = seed_world(session_factory)
    customer, channel = world.customers[-1], "in_app"
    engine = engine_for(settings)
    stop = threading.Event()
    started = threading.Barrier(RACERS + 1)

    def keep_deciding(i: int) -> None:
        started.wait()
        n = 0
        while not stop.is_set():
            n += 1
            req = DecisionRequest(
                campaign_id=world.campaign_id,
                customer_id=customer,
                channel=Channel(channel),
                idempotency_key=f"u{i}-{n}",
            )
            asyncio.run(decide(engine, session_factory, WS, req))

    threads = [threading.Thread(target=keep_deciding, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    started.wait()
    deadline = time.monotonic() + 60
    while _sends(session_factory, channel) < 3 and time.monotonic() < deadline:  # poll: sends are flowing
        time.sleep(0.01)
    with write(session_factory) as s:
        out = record_outcome(
            s, WS, OutcomeIn(draft_id=world.controls[channel], event="unsubscribed", customer_id=customer)
        )
    returned = utcnow()
    assert out.consent_withdrawn
    time.sleep(0.3)  # let the racing decisions that read before the withdrawal try to write
    stop.set()
    for t in threads:
        t.join()
    assert _sends(session_factory, channel) >= 3
    assert _sends(session_factory, channel, after=returned) == 0
