"""The journey flow through HTTP: campaign → reviewed drafts → decisions → outcomes → unsubscribe."""

from __future__ import annotations

import random
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.services import Services
from copyloom.content.engine import ContentEngine
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.models import ContactRecord, Customer, Draft
from tests.conftest import auth
from tests.content.conftest import SlowGenerator

CONTROL_PUSH = {"title": "Spring camping sale", "body": "20% off tents and sleeping bags with code TRAIL20."}


def _campaign(client: TestClient, key: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Spring camping",
        "brief": {"goal": "offer_announcement", "offer_ids": ["SPRING20"]},
        "channels": ["push"],
        "audience": {"customer_ids": ["C1001", "C1003", "C2001"]},
        "variants": 2,
        "control": {"push": CONTROL_PUSH},
        "approval": {"mode": "all"},
    } | overrides
    r = client.post("/v1/campaigns", json=body, headers=auth(key))
    assert r.status_code == 202, r.text
    return dict(r.json())


def _approve(factory: sessionmaker[Session], campaign_id: str, customer: str | None) -> list[str]:
    """Stands in for a reviewer (the review queue has its own tests): approve pending drafts."""
    with write(factory) as s:
        q = select(Draft).where(Draft.campaign_id == campaign_id, Draft.status == "pending_review")
        if customer is None:
            q = q.where(Draft.is_control.is_(True))
        else:
            pk = s.scalar(select(Customer.id).where(Customer.external_id == customer))
            q = q.where(Draft.customer_id == pk)
        drafts = list(s.scalars(q))
        for d in drafts:
            d.status = "approved"
        return [d.id for d in drafts]


def _decide(client: TestClient, key: str, campaign: str, customer: str, ikey: str, **extra: Any) -> dict[str, Any]:
    body = {"campaign_id": campaign, "customer_id": customer, "channel": "push", "idempotency_key": ikey} | extra
    r = client.post("/v1/decisions", json=body, headers=auth(key))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_campaign_to_decisions_to_unsubscribe(
    client: TestClient,
    keys: dict[Role, str],
    services: Services,
    content_engine: ContentEngine,
    session_factory: sessionmaker[Session],
) -> None:
    services.rng = random.Random(7)
    marketer, journey = keys[Role.MARKETER], keys[Role.JOURNEY]
    campaign = _campaign(client, marketer)
    services.task_runner().wait(timeout=60)
    state = client.get(f"/v1/campaigns/{campaign['id']}", headers=auth(marketer)).json()
    assert state["status"] == "completed" and state["progress"]["percent"] == 100.0
    assert state["progress"]["done"] == 3 and state["progress"]["drafts_by_status"].get("pending_review") == 6
    assert set(state["control_draft_ids"]) == {"push"}

    # Nothing approved yet, mode "all" never generates on the fly, no approved control: suppress.
    first = _decide(client, journey, campaign["id"], "C1001", "k0")
    assert first["decision"] == "suppress" and first["reason_code"] == "no_approved_content"

    approved = _approve(session_factory, campaign["id"], "C1001")
    _approve(session_factory, campaign["id"], None)
    sent = _decide(client, journey, campaign["id"], "C1001", "k1")
    assert sent["decision"] == "send" and sent["source"] == "approved"
    assert sent["draft"]["id"] in approved and sent["draft"]["customer_id"] == "C1001"

    again = _decide(client, journey, campaign["id"], "C1001", "k1")
    assert again["decision_id"] == sent["decision_id"] and again["replayed"] is True
    with write(session_factory) as s:
        assert s.query(ContactRecord).filter(ContactRecord.draft_id == sent["draft"]["id"]).count() == 1

    # A second send within the push minimum gap is fatigue, whatever the campaign.
    tired = _decide(client, journey, campaign["id"], "C1001", "k2")
    assert tired["decision"] == "suppress" and tired["reason_code"].startswith("fatigue")

    # C1003 withdrew personalization consent: her personalized drafts are never served; the control is.
    _approve(session_factory, campaign["id"], "C1003")
    control = _decide(client, journey, campaign["id"], "C1003", "k3")
    assert control["decision"] == "send" and control["source"] == "control"
    assert control["draft"]["content"]["title"] == CONTROL_PUSH["title"]

    # Unsubscribing from the sent control withdraws marketing consent for push: the next decision suppresses.
    r = client.post(
        "/v1/outcomes",
        json={"draft_id": control["draft"]["id"], "event": "unsubscribed", "customer_id": "C1003"},
        headers=auth(journey),
    )
    assert r.status_code == 201 and r.json()["consent_withdrawn"] is True
    after = _decide(client, journey, campaign["id"], "C1003", "k4")
    assert after["decision"] == "suppress" and after["reason_code"] == "no_consent"


def test_slow_model_falls_back_to_control_within_deadline(
    client: TestClient,
    keys: dict[Role, str],
    services: Services,
    content_engine: ContentEngine,
    session_factory: sessionmaker[Session],
) -> None:
    campaign = _campaign(
        client,
        keys[Role.MARKETER],
        approval={"mode": "sample", "sample_rate": 0.0},
        audience={"customer_ids": ["C2001"]},
    )
    services.task_runner().wait(timeout=60)
    with write(session_factory) as s:  # forget the background drafts: force generation at decision time
        for d in s.scalars(select(Draft).where(Draft.campaign_id == campaign["id"], Draft.is_control.is_(False))):
            d.status = "rejected"
    _approve(session_factory, campaign["id"], None)
    # A model that would take ten minutes against a deadline of a few seconds: long enough for the reads and the
    # retrieval before the model call on a busy machine, so the model is always asked, and the wait is cut short.
    slow = SlowGenerator(content_engine.generator, delay_s=600.0)
    content_engine.generator = slow  # type: ignore[assignment]
    started = time.monotonic()
    out = _decide(client, keys[Role.JOURNEY], campaign["id"], "C2001", "slow-1", deadline_ms=4000)
    assert time.monotonic() - started < 60  # the model's answer was not waited for
    assert slow.calls == 1
    assert out["decision"] == "send" and out["source"] == "control"


def test_fast_model_serves_generated_draft_when_campaign_auto_approves(
    client: TestClient,
    keys: dict[Role, str],
    services: Services,
    content_engine: ContentEngine,
    session_factory: sessionmaker[Session],
) -> None:
    services.rng = random.Random(1)
    campaign = _campaign(
        client,
        keys[Role.MARKETER],
        approval={"mode": "sample", "sample_rate": 0.0},
        audience={"customer_ids": ["C1004"]},
        channels=["web"],
        control={},
        brief={"goal": "cross_sell", "instructions": "gear for a week in the Alps"},
    )
    services.task_runner().wait(timeout=60)
    with write(session_factory) as s:
        for d in s.scalars(select(Draft).where(Draft.campaign_id == campaign["id"])):
            d.status = "rejected"
    r = client.post(
        "/v1/decisions",
        headers=auth(keys[Role.JOURNEY]),
        json={
            "campaign_id": campaign["id"],
            "customer_id": "C1004",
            "channel": "web",
            "idempotency_key": "gen-1",
            "deadline_ms": 5000,
        },
    )
    out = r.json()
    assert out["decision"] == "send" and out["source"] == "generated", out
    assert out["draft"]["verdict"] == "pass" and out["draft"]["status"] == "approved"


def test_decision_for_other_workspace_campaign_is_404(
    client: TestClient,
    keys: dict[Role, str],
    content_engine: ContentEngine,
) -> None:
    r = client.post(
        "/v1/decisions",
        headers=auth(keys[Role.JOURNEY]),
        json={"campaign_id": "nope", "customer_id": "C1001", "channel": "push", "idempotency_key": "x"},
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "campaign_not_found"
    r = client.post(
        "/v1/decisions",
        headers=auth(keys[Role.MARKETER]),
        json={"campaign_id": "nope", "customer_id": "C1001", "channel": "push", "idempotency_key": "x"},
    )
    assert r.status_code == 403


def test_product_written_through_the_api_is_indexed_in_the_background(
    client: TestClient, keys: dict[Role, str], services: Services, content_engine: ContentEngine
) -> None:
    r = client.put(
        "/v1/products/NW-NEW-1",
        headers=auth(keys[Role.ADMIN]),
        json={"name": "Aurora Ultralight Tarp", "category": "tents", "price": "119.00", "currency": "USD"},
    )
    assert r.status_code in (200, 201), r.text
    services.task_runner().wait(timeout=60)
    assert content_engine.store.get_embeddings("acme", ["product:NW-NEW-1"])


def test_decisions_say_what_they_mean(
    client: TestClient,
    keys: dict[Role, str],
    services: Services,
    content_engine: ContentEngine,
    session_factory: sessionmaker[Session],
) -> None:
    """A channel outside the campaign is 422; "nothing to send" lists what exists; the control arm has stats."""
    marketer, journey = keys[Role.MARKETER], keys[Role.JOURNEY]
    campaign = _campaign(client, marketer, channels=["push", "email"], audience={"customer_ids": ["C1001"]})
    services.task_runner().wait(timeout=60)
    before = client.get(f"/v1/drafts?campaign_id={campaign['id']}", headers=auth(marketer)).json()["items"]

    body = {"campaign_id": campaign["id"], "customer_id": "C1001", "channel": "sms", "idempotency_key": "w-1"}
    r = client.post("/v1/decisions", json=body, headers=auth(journey))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "channel_not_in_campaign" and r.json()["error"]["field"] == "channel"
    r = client.post("/v1/decisions/batch", json={"items": [body]}, headers=auth(journey))
    assert r.json()["results"][0]["error"]["code"] == "channel_not_in_campaign"
    after = client.get(f"/v1/drafts?campaign_id={campaign['id']}", headers=auth(marketer)).json()["items"]
    assert len(after) == len(before)  # no draft was written for the missing channel

    # The email variants are approved, the push ones wait for review, and push has no approved control yet.
    with write(session_factory) as s:
        for d in s.scalars(select(Draft).where(Draft.campaign_id == campaign["id"], Draft.channel == "email")):
            d.status = "approved"
    out = _decide(client, journey, campaign["id"], "C1001", "w-2")
    assert out["decision"] == "suppress" and out["reason_code"] == "no_approved_content"
    assert "pending review" in out["message"] and "email (variant)" in out["message"], out["message"]

    _approve(session_factory, campaign["id"], None)  # the push control
    with write(session_factory) as s:
        for d in s.scalars(select(Draft).where(Draft.campaign_id == campaign["id"], Draft.channel == "push")):
            if not d.is_control:
                d.status = "rejected"
    sent = _decide(client, journey, campaign["id"], "C1001", "w-3")
    assert sent["decision"] == "send" and sent["source"] == "control"
    stats = client.get(f"/v1/campaigns/{campaign['id']}/stats", headers=auth(marketer)).json()["variants"]
    control = [v for v in stats if v["control"]]
    assert [(v["channel"], v["sent"]) for v in control] == [("push", 1)], stats
    assert all(v["sent"] == 0 for v in stats if not v["control"])  # the control's send is not variant 0's
