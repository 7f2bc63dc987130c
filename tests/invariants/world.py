"""A small journey world for the invariant tests, and the checks they assert on the database.

Everything is written straight into the tables (no generation, no review): customers, consents, a campaign on
three channels with approved personalized variants for half the customers and an approved control per channel,
and fatigue rules that make the caps bite within seconds."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.config import Settings
from copyloom.content.engine import ContentEngine
from copyloom.content.journey.batch import decide_batch
from copyloom.content.journey.outcomes import record_outcome
from copyloom.content.journey.schemas import DecisionRequest, OutcomeIn
from copyloom.content.journey.service import decide
from copyloom.contracts.enums import Channel, ConsentStatus, Purpose
from copyloom.db import make_engine, make_session_factory, write
from copyloom.domain.consents import ConsentIn, fold_consents, status_in_force
from copyloom.domain.consents import record_consent as store_consent
from copyloom.domain.workspaces import create_workspace
from copyloom.errors import CopyloomError
from copyloom.models import BrandKit, Campaign, Consent, ContactRecord, Customer, Draft, new_id, utcnow

WS = "acme"
CHANNELS = ("push", "in_app", "email")
# min gap (hours), cap per week: email allows one send, push a few, in_app many (withdrawals are what stop it).
POLICIES = {"push": (0.0, 4), "in_app": (0.0, 100), "email": (24.0, 3)}
CUSTOMERS = 8


@dataclass(frozen=True)
class World:
    campaign_id: str
    customers: list[str]
    controls: dict[str, str]  # channel -> control draft id
    personal: dict[tuple[str, str], str]  # (customer, channel) -> one of its approved variants


def _draft(pk: int | None, campaign: str, channel: str, index: int, control: bool, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id(),
        "workspace_id": WS,
        "customer_id": pk,
        "campaign_id": campaign,
        "request_id": "invariants",
        "channel": channel,
        "locale": "en",
        "variant_index": index,
        "angle": f"v{index}",
        "goal": "loyalty",
        "brief": {"goal": "loyalty"},
        "is_control": control,
        "content": {"channel": channel, "title": "Thanks", "body": "Your rewards are ready."},
        "status": "approved",
        "verdict": "pass",
        "guardrail_report": {"verdict": "pass", "results": []},
        "cited_fact_ids": [],
        "bundle": {},
        "generator": {"kind": "offline"},
        "usage": {},
        "latency_ms": 0.0,
        "review_priority": 0,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def seed_world(factory: sessionmaker[Session]) -> World:
    now = utcnow()
    with write(factory) as s:
        create_workspace(s, WS, "Acme")
        policies = {"channels": {ch: {"min_gap_hours": g, "max_per_week": m} for ch, (g, m) in POLICIES.items()}}
        s.add(BrandKit(workspace_id=WS, name="Acme", policies=policies))
        externals = [f"K{i}" for i in range(CUSTOMERS)]
        s.execute(
            insert(Customer),
            [
                {
                    "workspace_id": WS,
                    "external_id": e,
                    "name": e,
                    "locale": "en",
                    "time_zone": "UTC",
                    "country": "GB",
                    "attributes": {},
                    "suppressed": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for e in externals
            ],
        )
        pks = dict(s.execute(select(Customer.external_id, Customer.id).where(Customer.workspace_id == WS)).all())
        s.execute(
            insert(Consent),
            [
                {
                    "workspace_id": WS,
                    "customer_id": pk,
                    "purpose": p,
                    "channel": ch,
                    "status": "granted",
                    "recorded_at": now - timedelta(days=1),
                    "source": "seed",
                    "created_at": now,
                }
                for pk in pks.values()
                for p in ("marketing", "personalization")
                for ch in CHANNELS
            ],
        )
        campaign = Campaign(
            workspace_id=WS,
            name="inv",
            brief={"goal": "loyalty"},
            channels=list(CHANNELS),
            audience={"customer_ids": externals},
            approval={"mode": "all"},
            status="completed",
        )
        s.add(campaign)
        s.flush()
        drafts = [_draft(None, campaign.id, ch, 0, True, now) for ch in CHANNELS]
        personal: dict[tuple[str, str], str] = {}
        for ext in externals[: CUSTOMERS // 2]:  # the other half only ever gets the control
            for ch in CHANNELS:
                for v in (0, 1):
                    d = _draft(pks[ext], campaign.id, ch, v, False, now)
                    drafts.append(d)
                    personal[(ext, ch)] = str(d["id"])
        s.execute(insert(Draft), drafts)
        controls = {str(d["channel"]): str(d["id"]) for d in drafts if d["is_control"]}
        return World(campaign.id, externals, controls, personal)


@dataclass
class StepLog:
    """The steps one invariant test ran, by outcome (``decide``, ``batch:conflict`` ...), and the sends it made:
    counted by tests/invariants/conftest.py against the issue's 10,000."""

    steps: Counter[str] = field(default_factory=Counter)
    sends: int = 0


def engine_for(settings: Settings) -> ContentEngine:
    """The content engine a decision needs without generation: settings and the cached campaign and brand."""
    none = cast(Any, None)
    return ContentEngine(settings=settings, store=none, embedder=none, generator=none, token_counter=none)


class Driver:
    """Runs random steps against the services, as a journey engine and a preference centre would."""

    def __init__(self, world: World, engine: ContentEngine, factory: sessionmaker[Session], seed: int) -> None:
        self.world, self.engine, self.factory = world, engine, factory
        self.rng = random.Random(seed)
        self.seed = seed
        self.loop = asyncio.new_event_loop()
        self.n = 0

    def close(self) -> None:
        self.loop.close()

    def _req(self, customer: str, channel: str) -> DecisionRequest:
        self.n += 1
        return DecisionRequest(
            campaign_id=self.world.campaign_id,
            customer_id=customer,
            channel=Channel(channel),
            idempotency_key=f"{self.seed}-{self.n}",
        )

    def step(self) -> str:
        rng, w = self.rng, self.world
        customer, channel = rng.choice(w.customers), rng.choice(CHANNELS)
        op = rng.choices(["decide", "batch", "grant", "withdraw", "unsubscribe", "personal"], [40, 15, 15, 10, 10, 10])[
            0
        ]
        try:
            if op == "decide":
                self.loop.run_until_complete(
                    decide(self.engine, self.factory, WS, self._req(customer, channel), rng=rng)
                )
            elif op == "batch":
                items = [self._req(rng.choice(w.customers), rng.choice(CHANNELS)) for _ in range(rng.randint(1, 5))]
                self.loop.run_until_complete(decide_batch(self.engine, self.factory, WS, items, rng=rng))
            elif op in ("grant", "withdraw", "personal"):
                purpose = Purpose.PERSONALIZATION if op == "personal" else Purpose.MARKETING
                status = ConsentStatus.WITHDRAWN if op == "withdraw" or rng.random() < 0.5 else ConsentStatus.GRANTED
                if op == "grant":
                    status = ConsentStatus.GRANTED
                with write(self.factory) as s:
                    store_consent(
                        s, WS, ConsentIn(customer_id=customer, purpose=purpose, channel=Channel(channel), status=status)
                    )
            else:
                draft = w.personal.get((customer, channel)) or w.controls[channel]
                with write(self.factory) as s:
                    record_outcome(s, WS, OutcomeIn(draft_id=draft, event="unsubscribed", customer_id=customer))
        except CopyloomError as exc:  # a contended decision may answer 409; it must not break the invariants
            return f"{op}:{exc.code}"
        return op


def run_worker(url: str, settings_data: dict[str, Any], world: World, seed: int, steps: int) -> Counter[str]:
    """A worker process: its own engine and connections on the same database. Returns the steps it ran by
    outcome (``decide``, ``batch:conflict`` ...)."""
    settings = Settings.model_validate(settings_data)
    engine: Engine = make_engine(url)
    driver = Driver(world, engine_for(settings), make_session_factory(engine), seed)
    ran: Counter[str] = Counter()
    try:
        for _ in range(steps):
            ran[driver.step()] += 1
    finally:
        driver.close()
        engine.dispose()
    return ran


def violations(factory: sessionmaker[Session]) -> tuple[list[str], int]:
    """Every send that broke consent (committed after the withdrawal that forbids it, or from personal data
    without personalization consent) or fatigue (over the weekly cap, inside the minimum gap); and how many sends
    there were. Sends and consent records are stamped under the customer's lock, so their order is commit order."""
    found: list[str] = []
    with write(factory) as s:
        consents: dict[int, list[tuple[str, str, str, datetime]]] = {}
        for pk, purpose, channel, status, at in s.execute(
            select(Consent.customer_id, Consent.purpose, Consent.channel, Consent.status, Consent.recorded_at).order_by(
                Consent.recorded_at, Consent.id
            )
        ):
            consents.setdefault(pk, []).append((purpose, channel, status, at))
        sends = s.execute(
            select(
                ContactRecord.customer_id,
                ContactRecord.channel,
                ContactRecord.created_at,
                ContactRecord.occurred_at,
                ContactRecord.summary,
            )
            .where(ContactRecord.kind == "sent")
            .order_by(ContactRecord.created_at, ContactRecord.id)
        ).all()
    by_slot: dict[tuple[int, str], list[datetime]] = {}
    for pk, channel, created, occurred, summary in sends:
        before = [r for r in consents.get(pk, []) if r[3] < created]
        in_force = fold_consents(before)
        if status_in_force(in_force, "marketing", channel) != "granted":
            found.append(f"send to {pk} on {channel} at {created} without marketing consent in force")
        if (summary or "").startswith("approved") and status_in_force(in_force, "personalization", channel) != (
            "granted"
        ):
            found.append(f"personalized send to {pk} on {channel} at {created} without personalization consent")
        by_slot.setdefault((pk, channel), []).append(occurred)
    for (pk, channel), times in by_slot.items():
        gap, cap = POLICIES[channel]
        if len(times) > cap:
            found.append(f"{len(times)} sends to {pk} on {channel}; the cap is {cap}")
        times.sort()
        for a, b in itertools.pairwise(times):
            if b - a < timedelta(hours=gap):
                found.append(f"sends to {pk} on {channel} at {a} and {b}: inside the {gap} h minimum gap")
    return found, len(sends)
