"""Helpers for the model-path tests (the API and its workers against ``tests.modelserver``): customers to draft
for, a campaign posted over HTTP and waited for, and the checks every such test makes on the database and on the
model server's own request log.

The checks are what "nothing lost, nothing twice" means for a campaign: every target finished exactly once; one
draft per (customer, channel, variant) for each ``done`` target and none for the others; and every model request
the server answered accounted for by a stored target (``model_calls`` counts a target's calls and re-asks), so a
customer drafted twice (by two workers, one result thrown away) shows up as requests nobody stored.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.db import read, write
from copyloom.models import CampaignTarget, Consent, Customer, Draft
from tests.conftest import auth

__all__ = [
    "MALFORMED",
    "CampaignCheck",
    "break_sms_answers",
    "check_campaign",
    "check_model_requests",
    "failed_targets",
    "first_name",
    "post_campaign",
    "report_measured",
    "requested",
    "seed_customers",
    "tool_of",
    "wait_campaign",
]

# The model server's malformed answers (tests/modelserver/faults.py), each of which fails only its channel.
MALFORMED = ["empty_choices", "no_choices", "null_message", "html", "not_json", "bad_arguments", "schema_violation"]
_measured = logging.getLogger("copyloom.tests.measured")

_HEADS = ["Pat", "Sam", "Alex", "Robin", "Kim", "Dana", "Max", "Lou", "Ria", "Teo"]
_TAILS = ["", "ra", "lo", "mi", "ne", "so", "ta", "vi", "ku", "de"]
_ENDS = ["", "n", "l", "s"]


def first_name(i: int) -> str:
    """A first name of its own for customer ``i`` (up to 400): the model server logs requests by first name,
    which ties each request to one target."""
    return f"{_HEADS[i % 10]}{_TAILS[(i // 10) % 10]}{_ENDS[(i // 100) % 4]}"


def seed_customers(factory: sessionmaker[Session], workspace: str, n: int, tag: str) -> list[str]:
    """``n`` customers (every fourth in Chinese) with marketing and personalization consent on email and SMS,
    tagged ``{"wave": tag}``; returns their external ids."""
    ids = []
    with write(factory) as s:
        for i in range(n):
            zh = i % 4 == 3
            c = Customer(
                workspace_id=workspace,
                external_id=f"{tag}{i:04d}",
                name=f"王{i}" if zh else f"{first_name(i)} Lee",
                email=f"{tag.lower()}{i}@example.com",
                phone=f"+1415555{i:04d}",
                locale="zh-CN" if zh else "en",
                time_zone="UTC",
                country="US",
                attributes={"wave": tag},
            )
            s.add(c)
            s.flush()
            ids.append(c.external_id)
            for purpose in ("marketing", "personalization"):
                for channel in ("email", "sms"):
                    s.add(
                        Consent(
                            workspace_id=workspace,
                            customer_id=c.id,
                            purpose=purpose,
                            channel=channel,
                            status="granted",
                            recorded_at=c.created_at,
                            source="test",
                        )
                    )
    return ids


def post_campaign(client: TestClient, key: str, tag: str, **body: Any) -> str:
    """POST /v1/campaigns for the customers tagged ``tag`` (email and SMS, one variant); returns its id."""
    payload = {
        "name": f"spring {tag}",
        "brief": {"goal": "cross_sell", "instructions": "spring hiking"},
        "channels": ["email", "sms"],
        "variants": 1,
        "audience": {"filter": {"attributes": {"wave": tag}}},
        "approval": {"mode": "all"},
    } | body
    r = client.post("/v1/campaigns", json=payload, headers=auth(key))
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def wait_campaign(
    client: TestClient, key: str, campaign_id: str, timeout_s: float = 600, *, alive: Any = None
) -> dict[str, Any]:
    """Poll GET /v1/campaigns/{id} until it is completed, failed or cancelled (generous: the machine is shared).
    ``alive``, if given, is called each round and raises when something the test relies on has died."""
    deadline = time.monotonic() + timeout_s
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if alive is not None:
            alive()
        body = client.get(f"/v1/campaigns/{campaign_id}", headers=auth(key)).json()
        if body["status"] in ("completed", "failed", "cancelled"):
            return body
        time.sleep(0.25)
    raise AssertionError(f"campaign not finished in {timeout_s} s: {body}")


@dataclass(frozen=True)
class CampaignCheck:
    """What the database says about a finished campaign."""

    statuses: Counter[str]
    reasons: Counter[str]
    drafts: int
    model_calls: int
    calls_by_target: dict[tuple[str, str], int]  # (first name, channel) -> stored model calls


def tool_of(channel: str) -> str:
    return f"Submit{channel.title()}Variants"


def check_campaign(factory: sessionmaker[Session], campaign_id: str, *, variants: int = 1) -> CampaignCheck:
    """Assert the database invariants of a finished campaign and return its counts."""
    with read(factory) as s:
        targets = s.execute(
            select(
                CampaignTarget.customer_id,
                Customer.name,
                CampaignTarget.channel,
                CampaignTarget.status,
                CampaignTarget.reason_code,
                CampaignTarget.model_calls,
                CampaignTarget.lease_owner,
                CampaignTarget.finished_at,
            )
            .join(Customer, Customer.id == CampaignTarget.customer_id)
            .where(CampaignTarget.campaign_id == campaign_id)
        ).all()
        drafts = s.execute(
            select(Draft.customer_id, Draft.channel, Draft.variant_index, func.count())
            .where(Draft.campaign_id == campaign_id, Draft.is_control.is_(False))
            .group_by(Draft.customer_id, Draft.channel, Draft.variant_index)
        ).all()
    unfinished = [t for t in targets if t.status in ("pending", "leased") or t.finished_at is None]
    assert not unfinished, f"{len(unfinished)} targets never finished: {unfinished[:5]}"
    assert all(t.lease_owner is None for t in targets), "a finished target still holds a lease"
    twice = [d for d in drafts if d[3] != 1]
    assert not twice, f"drafts stored more than once: {twice[:5]}"
    done = {(t.customer_id, t.channel) for t in targets if t.status == "done"}
    drafted = Counter((d[0], d[1]) for d in drafts)
    assert set(drafted) == done, (
        f"drafts without a done target: {sorted(set(drafted) - done)[:5]}; "
        f"done targets without drafts: {sorted(done - set(drafted))[:5]}"
    )
    assert all(n == variants for n in drafted.values()), "a done target without all its variants"
    called = [t for t in targets if t.status == "done" and t.model_calls < 1]
    assert not called, f"targets drafted without a model call on record: {called[:5]}"
    names = {}
    for t in targets:
        name = str(t.name).split(" ", 1)[0]
        assert names.setdefault((name, t.channel), t.customer_id) == t.customer_id, f"two customers named {name}"
    return CampaignCheck(
        statuses=Counter(t.status for t in targets),
        reasons=Counter(str(t.reason_code) for t in targets if t.status == "failed"),
        drafts=sum(d[3] for d in drafts),
        model_calls=sum(t.model_calls for t in targets),
        calls_by_target={(str(t.name).split(" ", 1)[0], t.channel): t.model_calls for t in targets},
    )


def check_model_requests(stats: dict[str, Any], check: CampaignCheck, *, lost: Iterable[tuple[str, str]] = ()) -> int:
    """Assert that the model server's requests are the stored targets' calls: the server's count of answered and
    failed requests (its 429s are retried below the target, so they are not model calls of it) equals the sum of
    ``model_calls``, and, request by request, no target was asked for more often than it stored. The targets in
    ``lost`` (held by a worker that was killed) may have had requests of the dead worker on top. Returns the
    requests sent for nothing (by the dead worker)."""
    served = stats["requests"] - stats["rate_limited"]
    wasted = set(lost)
    if stats["requests"] <= len(stats["recent"]):  # the server's log holds every request: check each target
        seen = Counter((r["name"], r["tool"]) for r in stats["recent"] if r["status"] != 429)
        for (name, channel), stored in check.calls_by_target.items():
            sent = seen.pop((name, tool_of(channel)), 0)
            if (name, channel) in wasted:
                assert sent >= stored, f"{name}/{channel}: {sent} requests, {stored} stored"
            else:
                assert sent == stored, f"{name}/{channel}: {sent} requests for {stored} stored calls"
        assert not seen, f"requests for no target of the campaign: {dict(seen)}"
    if not wasted:
        assert served == check.model_calls, f"{served} model requests, {check.model_calls} stored"
    else:
        assert served >= check.model_calls
    return served - check.model_calls


def requested(stats: dict[str, Any], targets: Iterable[tuple[str, str]]) -> int:
    """How many of the server's logged requests are for these (first name, channel) targets."""
    wanted = {(name, tool_of(channel)) for name, channel in targets}
    return sum(1 for r in stats["recent"] if (r["name"], r["tool"]) in wanted)


def break_sms_answers(factory: sessionmaker[Session], server: Any, ids: list[str]) -> dict[str, str]:
    """Make every SMS answer for the first ``len(MALFORMED)`` of ``ids`` one of the malformed answers (matched on
    the first-name fence of their SMS prompt); returns first name -> fault."""
    with read(factory) as s:
        names = dict(
            s.execute(select(Customer.external_id, Customer.name).where(Customer.external_id.in_(ids))).tuples().all()
        )
    broken = {names[ids[i]].split(" ", 1)[0]: fault for i, fault in enumerate(MALFORMED)}
    server.configure(
        faults=[{"match": [f">{name}</data-", "SubmitSmsVariants"], "fault": f} for name, f in broken.items()]
    )
    return broken


def failed_targets(factory: sessionmaker[Session], campaign_id: str) -> set[tuple[str, str]]:
    """The (first name, channel) of the campaign's failed targets."""
    with read(factory) as s:
        failed = s.execute(
            select(Customer.name, CampaignTarget.channel)
            .join(Customer, Customer.id == CampaignTarget.customer_id)
            .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "failed")
        ).all()
    return {(str(n).split(" ", 1)[0], ch) for n, ch in failed}


def report_measured(what: str, seconds: float, check: CampaignCheck, stats: dict[str, Any], **more: Any) -> None:
    """Log one ``MEASURED {json}`` line (logger ``copyloom.tests.measured``): what a model-path test took, with
    the load average, for the run's notes; never asserted on."""
    line = {
        "test": what,
        "seconds": round(seconds, 1),
        "targets": dict(check.statuses),
        "model_calls": check.model_calls,
        "server_requests": stats["requests"],
        "rate_limited": stats["rate_limited"],
        "max_in_flight": stats["max_in_flight"],
        "load": [round(x, 2) for x in os.getloadavg()],
        **more,
    }
    _measured.info("MEASURED %s", json.dumps(line))
