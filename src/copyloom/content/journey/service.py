"""Real-time decisions for a journey engine: send what, or send nothing and why, within the caller's deadline.

A decision is taken where it is written. Without locks it reads what consents and sends do not change (the
campaign's terms, the customer's drafts); then, in the write transaction, ``sends.lock_customers`` locks the
customer and reads the gate's snapshot, the pure policy (``decision_policy.plan_decision``) answers, and
``store_answers`` writes the decision and its send through the one writer of sends (``sends.record_sends``). A
single decision and a batch (``decisions_batch``) go through these same steps; only generation within the
deadline leaves the transaction, and its send is locked and checked again. An idempotency key replays the first
answer; a ``send`` writes contact history in the same transaction as the decision.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content import metrics
from copyloom.content.drafts.flow import (
    Generated,
    generate_all,
    persist_generated,
    prepare,
    run_in_session,
    run_read,
)
from copyloom.content.drafts.schemas import DraftRequest
from copyloom.content.drafts.views import draft_out
from copyloom.content.engine import ContentEngine
from copyloom.content.journey.policy import (
    DecisionSnapshot,
    Generate,
    Plan,
    Send,
    Suppress,
    check_channel,
    plan_decision,
)
from copyloom.content.journey.schemas import DecisionOut, DecisionRequest
from copyloom.content.journey.sends import Locked, PlannedSend, lock_customers, record_sends
from copyloom.contracts.brand import BrandPolicies
from copyloom.contracts.enums import DecisionKind, DraftStatus
from copyloom.db import read, write
from copyloom.domain.brief import Brief
from copyloom.domain.campaigns import CampaignTerms, cached_variant_stats
from copyloom.domain.contacts import insert_decisions, stored_decision
from copyloom.domain.customers import find_customer_pk
from copyloom.domain.drafts import campaign_drafts_for
from copyloom.errors import Conflict, NotFound
from copyloom.guardrails.gate import GateDecision
from copyloom.models import Draft, new_id, utcnow

T = TypeVar("T")
SAFETY_MARGIN_S = 0.02  # leave time to store the answer after generation


@dataclass(frozen=True)
class Answer:
    """A decision ready to store: a send is still subject to the gate at write time."""

    req: DecisionRequest
    customer_pk: int
    out: DecisionOut
    draft_id: str | None = None
    angle: str | None = None


@dataclass(frozen=True)
class Ask:
    """What a decision reads before taking the lock: the campaign's terms and the drafts that concern the
    customer (none of which a consent or a send changes)."""

    req: DecisionRequest
    customer_pk: int
    channels: frozenset[str]
    generates: bool
    drafts: Sequence[Any]


def replay(db: Session | Connection, workspace_id: str, req: DecisionRequest) -> DecisionOut | None:
    row = stored_decision(db, workspace_id, req.idempotency_key)
    if row is None:
        return None
    same = row.campaign_id == req.campaign_id and row.channel == req.channel.value
    stored = DecisionOut.model_validate(row.response)
    if not same or (stored.draft and stored.draft.customer_id not in (None, req.customer_id)):
        raise Conflict(
            "this idempotency key was used for another request", code="idempotency_key_reused", field="idempotency_key"
        )
    return stored.model_copy(update={"replayed": True})


def thompson_choice(variants: list[int], stats: dict[int, tuple[int, int]], rng: random.Random) -> int:
    """Sample each variant's conversion rate from Beta(1 + conversions, 1 + non-converted sends); take the best.

    ``stats`` maps variant index to (sends, conversions); unseen variants start from the uniform prior."""
    best, best_draw = variants[0], -1.0
    for index in variants:
        sent, converted = stats.get(index, (0, 0))
        draw = rng.betavariate(1 + converted, 1 + max(sent - converted, 0))
        if draw > best_draw:
            best, best_draw = index, draw
    return best


def thompson_pick(db: Session | Connection, drafts: list[Any], rng: random.Random) -> Any:
    if len(drafts) == 1:
        return drafts[0]
    stats = cached_variant_stats(db, drafts[0].campaign_id or "", drafts[0].channel)
    chosen = thompson_choice([d.variant_index for d in drafts], stats, rng)
    return next(d for d in drafts if d.variant_index == chosen)


def decision_row(
    workspace_id: str, req: DecisionRequest, out: DecisionOut, customer_pk: int, draft_id: str | None, now: datetime
) -> dict[str, object]:
    return {
        "id": out.decision_id,
        "workspace_id": workspace_id,
        "idempotency_key": req.idempotency_key,
        "campaign_id": req.campaign_id,
        "customer_id": customer_pk,
        "channel": req.channel.value,
        "decision": out.decision,
        "source": out.source,
        "reason_code": out.reason_code,
        "draft_id": draft_id,
        "response": out.model_dump(mode="json"),
        "created_at": now,
    }


def send_out(draft: Draft | Row[Any], source: str, external_id: str, send_after: datetime | None = None) -> DecisionOut:
    return DecisionOut(
        decision_id=new_id(),
        decision=DecisionKind.SEND,
        source=source,
        send_after=send_after,
        draft=draft_out(draft, external_id if not draft.is_control else None),
    )


def suppress_out(reason_code: str, message: str, send_after: datetime | None = None) -> DecisionOut:
    return DecisionOut(
        decision_id=new_id(),
        decision=DecisionKind.SUPPRESS,
        reason_code=reason_code,
        message=message,
        send_after=send_after,
    )


def answer_for(req: DecisionRequest, customer_pk: int, plan: Send | Suppress) -> Answer:
    if isinstance(plan, Suppress):
        return Answer(req, customer_pk, suppress_out(plan.reason_code, plan.message, plan.send_after))
    out = send_out(plan.draft, plan.source, req.customer_id, plan.send_after)
    return Answer(req, customer_pk, out, plan.draft.id, plan.draft.angle)


def plan_locked(locked: Locked, ask: Ask, pick: Callable[[list[Any]], Any]) -> tuple[GateDecision, Plan]:
    """The gate on the locked snapshot, then the policy: the decision is taken where it is written."""
    req = ask.req
    gate = locked.gate(ask.customer_pk, req.channel.value, req.send_at)
    snapshot = DecisionSnapshot(gate, ask.channels, ask.generates, ask.drafts)
    return gate, plan_decision(snapshot, req.channel.value, pick)


def store_answers(conn: Connection, workspace_id: str, answers: Sequence[Answer], locked: Locked) -> list[DecisionOut]:
    """Write the decisions (and their sends, through the one writer of sends) in the caller's transaction, which
    holds ``locked`` on every customer of ``answers``.

    A send the gate refuses at write time is stored as a suppression with the gate's reason. Core inserts: the hot
    path needs no unit of work. The unique (workspace, idempotency key) index turns a concurrent or repeated
    request into an IntegrityError, which the callers answer with the stored decision."""
    stored = list(answers)
    sends = [i for i, a in enumerate(stored) if a.draft_id is not None]
    planned = [
        PlannedSend(
            customer_pk=stored[i].customer_pk,
            channel=stored[i].req.channel.value,
            draft_id=stored[i].draft_id or "",
            campaign_id=stored[i].req.campaign_id,
            summary=f"{stored[i].out.source}: {stored[i].angle or ''}",
            send_at=stored[i].req.send_at,
        )
        for i in sends
    ]
    for j, gate in record_sends(workspace_id, planned, locked).items():
        a = stored[sends[j]]
        out = suppress_out(str(gate.reason_code), gate.message, gate.send_after)
        stored[sends[j]] = dataclasses.replace(a, out=out, draft_id=None, angle=None)
    # The plain table with parameters: no per-column coercion by the ORM's bulk layer (a millisecond here).
    insert_decisions(
        conn, [decision_row(workspace_id, a.req, a.out, a.customer_pk, a.draft_id, locked.now) for a in stored]
    )
    return [a.out for a in stored]


def _read(
    conn: Connection, engine: ContentEngine, workspace_id: str, req: DecisionRequest
) -> tuple[Ask, BrandPolicies, CampaignTerms]:
    campaign = engine.campaign(conn, req.campaign_id)
    if campaign is None or campaign.workspace_id != workspace_id:
        raise NotFound(f"no campaign {req.campaign_id!r}", code="campaign_not_found", field="campaign_id")
    check_channel(req.channel.value, campaign.channels)
    customer_pk = find_customer_pk(conn, workspace_id, req.customer_id)
    if customer_pk is None:
        raise NotFound(f"no customer {req.customer_id!r}", code="customer_not_found", field="customer_id")
    drafts = campaign_drafts_for(conn, campaign.id, customer_pk)
    ask = Ask(req, customer_pk, campaign.channels, campaign.approval.mode == "sample", drafts)
    return ask, engine.brand(conn, workspace_id).policies, campaign


async def _generate_now(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    workspace_id: str,
    req: DecisionRequest,
    campaign: CampaignTerms,
    now: datetime,
    budget_s: float,
) -> Draft | None:
    """Generate and check a draft within ``budget_s``; returns it only if the routing policy approved it."""
    draft_req = DraftRequest(
        customer_id=req.customer_id,
        channels=[req.channel],
        brief=Brief.model_validate(campaign.brief),
        variants=1,
        send_at=req.send_at,
    )
    approval = campaign.approval

    async def _work() -> Draft | None:
        prepared = await run_read(factory, lambda s: prepare(s, engine, workspace_id, draft_req, now, realtime=True))
        outcomes = await generate_all(engine, prepared, draft_req)
        generated = [o for o in outcomes if isinstance(o, Generated)]
        if not generated:
            return None
        policy = prepared.review_policy.model_copy(update={"sample_rate": approval.sample_rate})

        def _persist(session: Session) -> Draft | None:
            drafts = persist_generated(
                session,
                workspace_id,
                dataclasses.replace(prepared, review_policy=policy),
                generated,
                draft_req,
                request_id=new_id(),
                actor="system",
                campaign_id=campaign.id,
                campaign_mode=approval.mode,
            )
            return next((d for d in drafts if d.status == DraftStatus.APPROVED), None)

        return await run_in_session(factory, _persist)

    if budget_s <= 0:
        return None
    try:
        return await asyncio.wait_for(_work(), timeout=budget_s)
    except TimeoutError:
        return None


async def decide(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    workspace_id: str,
    req: DecisionRequest,
    *,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> DecisionOut:
    out = await _decide(engine, factory, workspace_id, req, rng=rng, now=now)
    if not out.replayed:
        metrics.decisions(out.decision, out.source or "none").inc()
    return out


async def _decide(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    workspace_id: str,
    req: DecisionRequest,
    *,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> DecisionOut:
    """A batch of one: the same reads, policy and writer, with generation within the deadline when the policy
    asks for it. Core statements on the unit of work's connection: this runs on every call of a journey engine,
    and the ORM's identity map would cost more than the indexed look-ups themselves."""
    started = time.perf_counter()
    fixed_now = now  # tests pin the clock; otherwise every write uses the time its lock was granted
    picker = rng or random.Random()
    deadline_s = (req.deadline_ms or engine.settings.decision_deadline_ms) / 1000
    pool = _pool(engine.settings.effective_decision_db_threads)

    def _first() -> DecisionOut | tuple[Ask, BrandPolicies, CampaignTerms, GateDecision, Generate]:
        with read(factory) as session:
            ask, policies, campaign = _read(session.connection(), engine, workspace_id, req)
        with write(factory) as session:
            conn = session.connection()
            locked = lock_customers(conn, [ask.customer_pk], policies, fixed_now)
            gate, plan = plan_locked(locked, ask, lambda ds: thompson_pick(conn, ds, picker))
            if isinstance(plan, Generate):
                # Only the slow path looks the key up first, to not generate twice; elsewhere a repeated key fails
                # the unique index on insert and is answered from the stored decision.
                return replay(conn, workspace_id, req) or (ask, policies, campaign, gate, plan)
            return store_answers(conn, workspace_id, [answer_for(req, ask.customer_pk, plan)], locked)[0]

    def _after_generation(ask: Ask, policies: BrandPolicies, final: Send | Suppress) -> DecisionOut:
        with write(factory) as session:
            conn = session.connection()
            locked = lock_customers(conn, [ask.customer_pk], policies, fixed_now)
            return store_answers(conn, workspace_id, [answer_for(req, ask.customer_pk, final)], locked)[0]

    try:
        first = await _in_pool(pool, _first)
        if isinstance(first, DecisionOut):
            return first
        ask, policies, campaign, gate, plan = first
        remaining = deadline_s - (time.perf_counter() - started) - SAFETY_MARGIN_S
        generated = await _generate_now(engine, factory, workspace_id, req, campaign, fixed_now or utcnow(), remaining)
        final = Send(generated, "generated", gate.send_after) if generated is not None else plan.fallback
        return await _in_pool(pool, lambda: _after_generation(ask, policies, final))
    except IntegrityError:  # a concurrent call with the same key won the insert: answer what it answered
        return await _stored(pool, factory, workspace_id, req)


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(threads: int) -> ThreadPoolExecutor:
    """The process's threads for decisions' database work, ``decision_db_threads`` of them: few on SQLite, where
    the work is in-process and more threads only fight over the GIL."""
    with _POOLS_LOCK:
        pool = _POOLS.get(threads)
        if pool is None:
            pool = _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="copyloom-decision")
        return pool


async def _in_pool(pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
    """``fn()`` on ``pool``, with this task's context (request id for the logs). Lighter than anyio's thread
    hop, which matters on a path that takes about a millisecond in all."""
    return await asyncio.get_running_loop().run_in_executor(pool, contextvars.copy_context().run, fn)


async def _stored(
    pool: ThreadPoolExecutor, factory: sessionmaker[Session], workspace_id: str, req: DecisionRequest
) -> DecisionOut:
    """The decision a concurrent call with the same key stored first."""

    def _read() -> DecisionOut:
        with read(factory) as session:
            stored = replay(session.connection(), workspace_id, req)
        assert stored is not None
        return stored

    return await _in_pool(pool, _read)
