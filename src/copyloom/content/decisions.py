"""Real-time decisions for a journey engine: send what, or send nothing and why, within the caller's deadline.

Order of preference: the customer's approved draft (Thompson sampling over variants on conversions) →
a draft generated now, if the campaign auto-approves passing drafts and the deadline allows → the campaign's
approved control → suppress. The consent gate runs first, at decision time. An idempotency key replays the first
answer; a ``send`` writes contact history in the same transaction as the decision.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Row, Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content import metrics
from copyloom.content.decision_schemas import DecisionOut, DecisionRequest
from copyloom.content.engine import CampaignTerms, ContentEngine
from copyloom.content.pipeline import (
    Generated,
    generate_all,
    persist_generated,
    prepare,
    run_in_session,
    run_read,
)
from copyloom.content.schemas import DraftRequest
from copyloom.content.stats import cached_variant_stats
from copyloom.content.views import draft_out
from copyloom.db import bound_engine, read_connection, write_connection
from copyloom.domain.brief import Brief
from copyloom.domain.enums import Purpose
from copyloom.errors import Conflict, NotFound
from copyloom.guardrails.gate import evaluate_gate
from copyloom.guardrails.gate_loader import GATE_CUSTOMER, load_gate_input
from copyloom.models import ContactRecord, Customer, Decision, Draft, new_id, utcnow

_D = TypeVar("_D", Draft, Row[Any])
T = TypeVar("T")
SAFETY_MARGIN_S = 0.02  # leave time to store the answer after generation
DECISIONS: Table = Decision.__table__  # type: ignore[assignment]
CONTACTS: Table = ContactRecord.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class _Context:
    campaign: CampaignTerms
    customer_pk: int
    allowed: bool
    personal: bool
    reason_code: str | None
    message: str | None
    send_after: datetime | None


_STORED = select(Decision.campaign_id, Decision.channel, Decision.response).where(
    Decision.workspace_id == bindparam("ws"), Decision.idempotency_key == bindparam("key")
)


def replay(db: Session | Connection, workspace_id: str, req: DecisionRequest) -> DecisionOut | None:
    row = db.execute(_STORED, {"ws": workspace_id, "key": req.idempotency_key}).first()
    if row is None:
        return None
    same = row.campaign_id == req.campaign_id and row.channel == req.channel.value
    stored = DecisionOut.model_validate(row.response)
    if not same or (stored.draft and stored.draft.customer_id not in (None, req.customer_id)):
        raise Conflict(
            "this idempotency key was used for another request", code="idempotency_key_reused", field="idempotency_key"
        )
    return stored.model_copy(update={"replayed": True})


def _context(
    conn: Connection, engine: ContentEngine, workspace_id: str, req: DecisionRequest, now: datetime
) -> _Context:
    campaign = engine.campaign(conn, req.campaign_id)
    if campaign is None or campaign.workspace_id != workspace_id:
        raise NotFound(f"no campaign {req.campaign_id!r}", code="campaign_not_found", field="campaign_id")
    customer = conn.execute(GATE_CUSTOMER, {"ws": workspace_id, "ext": req.customer_id}).first()
    if customer is None:
        raise NotFound(f"no customer {req.customer_id!r}", code="customer_not_found", field="customer_id")
    policies = engine.brand(conn, workspace_id).policies
    gate = evaluate_gate(
        load_gate_input(conn, workspace_id, req.customer_id, now, customer=customer, policies=policies),
        channel=req.channel,
        purpose=Purpose.MARKETING,
        now=now,
        send_at=req.send_at,
        realtime=True,
    )
    return _Context(
        campaign,
        customer.id,
        gate.allowed,
        gate.personalization_allowed,
        None if gate.allowed else str(gate.reason_code),
        None if gate.allowed else gate.message,
        gate.send_after,
    )


def _approved(conn: Connection, ctx: _Context, channel: str, control: bool) -> list[Row[Any]]:
    """The campaign's approved drafts for this customer and channel, or its approved controls (as rows)."""
    if control:
        return list(conn.execute(_APPROVED_CONTROLS, {"campaign": ctx.campaign.id, "channel": channel}))
    return list(conn.execute(_APPROVED, {"campaign": ctx.campaign.id, "channel": channel, "pk": ctx.customer_pk}))


# Built once: these run on every decision.
_SENT_SINCE = (
    select(ContactRecord.id)
    .where(
        ContactRecord.customer_id == bindparam("pk"),
        ContactRecord.channel == bindparam("channel"),
        ContactRecord.kind == "sent",
        ContactRecord.created_at >= bindparam("since"),
    )
    .limit(1)
)
_LOCK_CUSTOMER = select(Customer.id).where(Customer.id == bindparam("pk")).with_for_update()
# What a response shows of a draft: every column but the stored facts bundle, the heaviest, which a decision
# never needs.
_DRAFT_COLUMNS = [c for c in Draft.__table__.c if c.name != "bundle"]
_APPROVED_IN_CAMPAIGN = (
    select(*_DRAFT_COLUMNS)
    .where(
        Draft.campaign_id == bindparam("campaign"), Draft.channel == bindparam("channel"), Draft.status == "approved"
    )
    .order_by(Draft.variant_index, Draft.created_at)
)
_APPROVED = _APPROVED_IN_CAMPAIGN.where(Draft.is_control.is_(False), Draft.customer_id == bindparam("pk"))
_APPROVED_CONTROLS = _APPROVED_IN_CAMPAIGN.where(Draft.is_control.is_(True))


def sent_since(conn: Connection, customer_pk: int, channel: str, since: datetime) -> bool:
    """Whether a send to this customer and channel was recorded after ``since`` (by a concurrent decision)."""
    return conn.scalar(_SENT_SINCE, {"pk": customer_pk, "channel": channel, "since": since}) is not None


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


def thompson_pick(db: Session | Connection, drafts: list[_D], rng: random.Random) -> _D:
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


def contact_row(
    workspace_id: str,
    req: DecisionRequest,
    out: DecisionOut,
    customer_pk: int,
    draft_id: str,
    angle: str | None,
    now: datetime,
) -> dict[str, object]:
    return {
        "workspace_id": workspace_id,
        "customer_id": customer_pk,
        "channel": req.channel.value,
        "kind": "sent",
        "occurred_at": req.send_at or now,
        "draft_id": draft_id,
        "campaign_id": req.campaign_id,
        "summary": f"{out.source}: {angle or ''}"[:200],
        "created_at": now,
    }


def _store(
    conn: Connection,
    workspace_id: str,
    req: DecisionRequest,
    out: DecisionOut,
    customer_pk: int,
    draft: Draft | Row[Any] | tuple[str, str | None] | None,
) -> DecisionOut:
    """Write the decision (and, for a send, the contact record) in the caller's transaction.

    Core inserts: the hot path needs no unit of work. The unique (workspace, idempotency key) index turns a
    concurrent or repeated request into an IntegrityError, which ``decide`` answers with the stored decision."""
    now = utcnow()
    draft_id, angle = (draft.id, draft.angle) if isinstance(draft, Draft | Row) else (draft or (None, None))
    # The plain tables with parameters: no per-column coercion by the ORM's bulk layer (a millisecond here).
    conn.execute(DECISIONS.insert(), [decision_row(workspace_id, req, out, customer_pk, draft_id, now)])
    if out.decision == "send" and draft_id is not None:
        conn.execute(CONTACTS.insert(), [contact_row(workspace_id, req, out, customer_pk, draft_id, angle, now)])
    return out


def send_out(draft: Draft | Row[Any], source: str, external_id: str) -> DecisionOut:
    return DecisionOut(
        decision_id=new_id(),
        decision="send",
        source=source,
        draft=draft_out(draft, external_id if not draft.is_control else None),
    )


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
            return next((d for d in drafts if d.status == "approved"), None)

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
    started = time.perf_counter()
    fixed_now = now  # tests pin the clock; otherwise every read uses the time it happens
    now = now or utcnow()
    rng = rng or random.Random()
    deadline_s = (req.deadline_ms or engine.settings.decision_deadline_ms) / 1000

    sql = bound_engine(factory)
    pool = _pool(engine.settings.effective_decision_db_threads)

    def _fast() -> tuple[DecisionOut | None, _Context]:
        """Read without the write lock, then write briefly. A send that raced another send to the same customer
        and channel (which the read could not see) is decided again, and then meets the fatigue rules.

        Core statements on plain connections: this runs on every call of a journey engine, and the ORM's session
        and identity map cost more than the indexed look-ups themselves."""
        for _ in range(3):
            # Each attempt judges "now" as of its own read: a send committed before the read is then in the past
            # for the fatigue rules, and one committed after it is caught by the check before writing.
            read_at = utcnow()
            draft: tuple[str, str | None] | None = None
            with read_connection(sql) as conn:
                # No idempotency look-up up front: a repeated key fails the unique index on insert and is
                # answered from the stored decision. Only the slow path checks first, to not generate twice.
                ctx = _context(conn, engine, workspace_id, req, fixed_now or read_at)
                if not ctx.allowed:
                    out = DecisionOut(
                        decision_id=new_id(),
                        decision="suppress",
                        reason_code=ctx.reason_code,
                        message=ctx.message,
                        send_after=ctx.send_after,
                    )
                else:
                    approved = _approved(conn, ctx, req.channel.value, control=False) if ctx.personal else []
                    if not approved:
                        return replay(conn, workspace_id, req), ctx
                    picked = thompson_pick(conn, approved, rng)
                    out, draft = send_out(picked, "approved", req.customer_id), (picked.id, picked.angle)
            with write_connection(sql) as conn:
                if draft is not None:
                    # Sends to one customer queue here (a row lock on PostgreSQL; SQLite has one writer anyway),
                    # so two concurrent decisions cannot both pass the check below (write skew).
                    conn.execute(_LOCK_CUSTOMER, {"pk": ctx.customer_pk})
                    if sent_since(conn, ctx.customer_pk, req.channel.value, read_at):
                        continue
                return _store(conn, workspace_id, req, out, ctx.customer_pk, draft), ctx
        raise Conflict("the customer is being contacted by concurrent decisions; retry", code="decision_contended")

    try:
        answer, ctx = await _in_pool(pool, _fast)
    except IntegrityError:  # a concurrent call with the same key won the insert: answer what it answered
        return await _stored(pool, sql, workspace_id, req)
    if answer is not None:
        return answer
    generated: Draft | None = None
    if ctx.personal and ctx.campaign.approval.mode == "sample":
        remaining = deadline_s - (time.perf_counter() - started) - SAFETY_MARGIN_S
        generated = await _generate_now(engine, factory, workspace_id, req, ctx.campaign, now, remaining)

    def _finish() -> DecisionOut:
        with write_connection(sql) as conn:
            if generated is not None:
                out = send_out(generated, "generated", req.customer_id)
                return _store(conn, workspace_id, req, out, ctx.customer_pk, generated)
            controls = _approved(conn, ctx, req.channel.value, control=True)
            if controls:
                out = send_out(controls[0], "control", req.customer_id)
                return _store(conn, workspace_id, req, out, ctx.customer_pk, controls[0])
            out = DecisionOut(
                decision_id=new_id(),
                decision="suppress",
                reason_code="no_approved_content",
                message="no approved draft or control for this customer and channel",
            )
            return _store(conn, workspace_id, req, out, ctx.customer_pk, None)

    try:
        return await _in_pool(pool, _finish)
    except IntegrityError:
        return await _stored(pool, sql, workspace_id, req)


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


async def _stored(pool: ThreadPoolExecutor, sql: Engine, workspace_id: str, req: DecisionRequest) -> DecisionOut:
    """The decision a concurrent call with the same key stored first."""

    def _read() -> DecisionOut:
        with read_connection(sql) as conn:
            stored = replay(conn, workspace_id, req)
        assert stored is not None
        return stored

    return await _in_pool(pool, _read)
