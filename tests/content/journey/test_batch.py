"""Batch decisions give the same answers as single decisions, for every consent situation in the demo data."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.services import Services
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.models import ContactRecord
from tests.conftest import auth

pytestmark = pytest.mark.store

# What the demo data says for a push decision on a campaign with approved drafts and an approved control.
EXPECTED = {
    "C1001": ("send", "approved", None),
    "C1002": ("suppress", None, "no_consent"),  # push never granted
    "C1003": ("send", "control", None),  # personalization withdrawn: the control, never her own draft
    "C1004": ("suppress", None, "no_consent"),
    "C1005": ("suppress", None, "globally_suppressed"),
    "C1006": ("suppress", None, "minor"),
    "C2001": ("send", "approved", None),  # a push six days ago is outside the gap
    "C2002": ("suppress", None, "no_consent"),
    "C2003": ("send", "control", None),
}


CONTROL = {"push": {"title": "Spring at Northwind", "body": "New gear for the trail is in."}}


def _item(campaign: str, customer: str, key: str) -> dict[str, Any]:
    return {"campaign_id": campaign, "customer_id": customer, "channel": "push", "idempotency_key": key}


def _summary(answer: dict[str, Any]) -> tuple[str, str | None, str | None]:
    return answer["decision"], answer["source"], answer["reason_code"]


def test_batch_answers_like_single_decisions(
    client: TestClient,
    keys: dict[Role, str],
    services: Services,
    approved_campaign: Callable[..., str],
    session_factory: sessionmaker[Session],
) -> None:
    services.rng = random.Random(3)
    campaign = approved_campaign(list(EXPECTED), ["push"], variants=2, control=CONTROL)
    items = [_item(campaign, c, f"b-{c}") for c in EXPECTED]
    items += [
        _item(campaign, "C1001", "b-C1001"),  # the same key again in one batch
        _item(campaign, "C2001", "b-again"),  # a second push to one customer in one batch
        _item(campaign, "nobody", "b-nobody"),
    ]
    r = client.post("/v1/decisions/batch", json={"items": items}, headers=auth(keys[Role.JOURNEY]))
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    got = {items[i]["customer_id"]: _summary(x["result"]) for i, x in enumerate(results[: len(EXPECTED)])}
    assert got == EXPECTED
    assert results[len(EXPECTED)]["result"]["decision_id"] == results[0]["result"]["decision_id"]
    assert _summary(results[len(EXPECTED) + 1]["result"]) == ("suppress", None, "fatigue_min_gap")
    assert results[-1]["error"]["code"] == "customer_not_found"
    with write(session_factory) as s:
        sent = s.scalar(select(func.count()).select_from(ContactRecord).where(ContactRecord.campaign_id == campaign))
    assert sent == sum(1 for v in EXPECTED.values() if v[0] == "send")


def test_single_decisions_give_the_expected_answers(
    client: TestClient,
    keys: dict[Role, str],
    approved_campaign: Callable[..., str],
) -> None:
    campaign = approved_campaign(list(EXPECTED), ["push"], variants=2, control=CONTROL)
    for customer, expected in EXPECTED.items():
        r = client.post(
            "/v1/decisions", json=_item(campaign, customer, f"s-{customer}"), headers=auth(keys[Role.JOURNEY])
        )
        assert _summary(r.json()) == expected, customer
