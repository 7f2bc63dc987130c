"""Many decisions at once, for journey engines that ask about whole audiences.

One snapshot read for the batch (customers, consents, history, events and approved drafts in a handful of
queries), the consent gate and Thompson sampling in memory, then one short write. Whatever is not a plain
"approved draft or suppress" answer (a repeated key, a second message to one customer in the batch, a customer
with no approved draft, a send that raced another request) goes through the single-decision path, so both paths
give the same answers.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import anyio
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, sessionmaker

from copyloom.content import metrics
from copyloom.content.decision_schemas import DecisionOut, DecisionRequest
from copyloom.content.decisions import (
    CONTACTS,
    contact_row,
    decide,
    decision_row,
    send_out,
    thompson_pick,
)
from copyloom.content.engine import ContentEngine
from copyloom.db import read_scope, session_scope
from copyloom.domain.enums import Purpose
from copyloom.errors import CopyloomError, NotFound
from copyloom.guardrails.gate import evaluate_gate
from copyloom.guardrails.gate_loader import load_gate_inputs
from copyloom.models import Campaign, ContactRecord, Customer, Decision, Draft, new_id, utcnow

CHUNK = 900  # bound parameters per IN list (SQLite's default limit is 999)
T = TypeVar("T")


@dataclass(frozen=True)
class _Planned:
    index: int
    req: DecisionRequest
    out: DecisionOut
    customer_pk: int
    draft: tuple[str, str | None] | None  # (id, angle) of the draft sent


def _chunks(values: Sequence[T]) -> list[list[T]]:
    return [list(values[i : i + CHUNK]) for i in range(0, len(values), CHUNK)]


def _plan(
    session: Session,
    engine: ContentEngine,
    workspace_id: str,
    items: Sequence[DecisionRequest],
    rng: random.Random,
    results: list[DecisionOut | CopyloomError | None],
    read_at: datetime,
) -> tuple[list[_Planned], list[int]]:
    keys = [r.idempotency_key for r in items]
    seen: set[str] = set()
    for chunk in _chunks(keys):
        seen |= set(
            session.scalars(
                select(Decision.idempotency_key).where(
                    Decision.workspace_id == workspace_id, Decision.idempotency_key.in_(chunk)
                )
            )
        )
    campaigns = {
        c.id: c
        for c in session.scalars(
            select(Campaign).where(
                Campaign.workspace_id == workspace_id, Campaign.id.in_({r.campaign_id for r in items})
            )
        )
    }
    customers: dict[str, Customer] = {}
    for chunk in _chunks(sorted({r.customer_id for r in items})):
        customers |= {
            c.external_id: c
            for c in session.scalars(
                select(Customer).where(Customer.workspace_id == workspace_id, Customer.external_id.in_(chunk))
            )
        }
    policies = engine.brand(session, workspace_id).policies
    gates = load_gate_inputs(session, list(customers.values()), read_at, policies)
    approved: dict[tuple[str, int, str], list[Draft]] = defaultdict(list)
    for pk_chunk in _chunks(sorted(c.id for c in customers.values())):
        for d in session.scalars(
            select(Draft)
            .options(defer(Draft.bundle))
            .where(
                Draft.campaign_id.in_(list(campaigns)),
                Draft.customer_id.in_(pk_chunk),
                Draft.status == "approved",
                Draft.is_control.is_(False),
            )
            .order_by(Draft.variant_index, Draft.created_at)
        ):
            approved[(d.campaign_id or "", d.customer_id or 0, d.channel)].append(d)

    planned: list[_Planned] = []
    leftover: list[int] = []
    contacted: set[tuple[int, str]] = set()
    for i, req in enumerate(items):
        if req.idempotency_key in seen:
            leftover.append(i)  # a replay (or a key reused in this very batch): the single path answers it
            continue
        seen.add(req.idempotency_key)
        if req.campaign_id not in campaigns:
            results[i] = NotFound(f"no campaign {req.campaign_id!r}", code="campaign_not_found", field="campaign_id")
            continue
        customer = customers.get(req.customer_id)
        if customer is None:
            results[i] = NotFound(f"no customer {req.customer_id!r}", code="customer_not_found", field="customer_id")
            continue
        if (customer.id, req.channel.value) in contacted:
            leftover.append(i)  # a second message to one customer: decided once the first is stored
            continue
        gate = evaluate_gate(
            gates[customer.id],
            channel=req.channel,
            purpose=Purpose.MARKETING,
            now=read_at,
            send_at=req.send_at,
            realtime=True,
        )
        if not gate.allowed:
            out = DecisionOut(
                decision_id=new_id(),
                decision="suppress",
                reason_code=str(gate.reason_code),
                message=gate.message,
                send_after=gate.send_after,
            )
            planned.append(_Planned(i, req, out, customer.id, None))
            continue
        drafts = (
            approved.get((req.campaign_id, customer.id, req.channel.value)) if gate.personalization_allowed else None
        )
        if not drafts:
            leftover.append(i)  # control or generation within a deadline: the single path
            continue
        picked = thompson_pick(session, drafts, rng)
        planned.append(
            _Planned(i, req, send_out(picked, "approved", req.customer_id), customer.id, (picked.id, picked.angle))
        )
        contacted.add((customer.id, req.channel.value))
    return planned, leftover


def _write(session: Session, workspace_id: str, planned: list[_Planned], read_at: datetime) -> list[_Planned]:
    """Store what still holds; return the sends that raced another request (to be decided again)."""
    sends = sorted({p.customer_pk for p in planned if p.draft})
    raced: set[tuple[int, str]] = set()
    for chunk in _chunks(sends):
        session.execute(select(Customer.id).where(Customer.id.in_(chunk)).with_for_update())
        raced |= {
            (pk, ch)
            for pk, ch in session.execute(
                select(ContactRecord.customer_id, ContactRecord.channel).where(
                    ContactRecord.customer_id.in_(chunk),
                    ContactRecord.kind == "sent",
                    ContactRecord.created_at >= read_at,
                )
            )
        }
    lost = [p for p in planned if p.draft and (p.customer_pk, p.req.channel.value) in raced]
    kept = [p for p in planned if p not in lost]
    now = utcnow()
    if kept:
        session.execute(
            insert(Decision),
            [
                decision_row(workspace_id, p.req, p.out, p.customer_pk, p.draft[0] if p.draft else None, now)
                for p in kept
            ],
        )
    contacts = [
        contact_row(workspace_id, p.req, p.out, p.customer_pk, p.draft[0], p.draft[1], now) for p in kept if p.draft
    ]
    if contacts:
        session.execute(CONTACTS.insert(), contacts)
    return lost


async def decide_batch(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    workspace_id: str,
    items: Sequence[DecisionRequest],
    *,
    rng: random.Random | None = None,
) -> list[DecisionOut | CopyloomError]:
    rng = rng or random.Random()
    results: list[DecisionOut | CopyloomError | None] = [None] * len(items)

    def _bulk() -> list[int]:
        read_at = utcnow()
        with read_scope(factory) as session:
            planned, leftover = _plan(session, engine, workspace_id, items, rng, results, read_at)
        try:
            with session_scope(factory) as session:
                lost = _write(session, workspace_id, planned, read_at)
        except IntegrityError:  # a concurrent request used one of these keys: decide them one by one
            return sorted(leftover + [p.index for p in planned])
        for p in planned:
            if p not in lost:
                results[p.index] = p.out
                metrics.decisions(p.out.decision, p.out.source or "none").inc()
        return sorted(leftover + [p.index for p in lost])

    for i in await anyio.to_thread.run_sync(_bulk):
        try:
            results[i] = await decide(engine, factory, workspace_id, items[i], rng=rng)
        except CopyloomError as exc:
            results[i] = exc
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]
