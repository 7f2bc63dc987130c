"""Many decisions at once, for journey engines that ask about whole audiences.

One snapshot read for the batch (customers, consents, history, events and the campaigns' drafts in a handful of
queries), then the same pure policy as a single decision for each item, and one short write through the same
``store_answers`` (so every send is re-checked under the customers' locks). What the snapshot cannot answer (a
repeated key, a second message to one customer in the batch, generation within a deadline) goes through the
single-decision path, so both paths give the same answers.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

import anyio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, sessionmaker

from copyloom.content import metrics
from copyloom.content.campaign_schemas import Approval
from copyloom.content.decision_policy import DecisionSnapshot, Generate, check_channel, plan_decision
from copyloom.content.decision_schemas import DecisionOut, DecisionRequest
from copyloom.content.decisions import Answer, answer_for, decide, store_answers, thompson_pick
from copyloom.content.engine import ContentEngine
from copyloom.db import bound_engine, read_scope, write_connection
from copyloom.domain.brand import BrandPolicies
from copyloom.domain.enums import Purpose
from copyloom.errors import CopyloomError, NotFound
from copyloom.guardrails.gate import evaluate_gate
from copyloom.guardrails.gate_loader import load_gate_inputs
from copyloom.models import Campaign, Customer, Decision, Draft, utcnow

CHUNK = 900  # bound parameters per IN list (SQLite's default limit is 999)
T = TypeVar("T")


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
) -> tuple[list[tuple[int, Answer]], list[int], BrandPolicies]:
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
    # What the policy reads of the campaigns: each customer's own drafts (any status) and the controls.
    drafts: dict[tuple[str, int | None], list[Any]] = defaultdict(list)
    lightweight = defer(Draft.bundle)
    for d in session.scalars(
        select(Draft)
        .options(lightweight)
        .where(Draft.campaign_id.in_(list(campaigns)), Draft.is_control.is_(True))
        .order_by(Draft.variant_index, Draft.created_at)
    ):
        drafts[(d.campaign_id or "", None)].append(d)
    for pk_chunk in _chunks(sorted(c.id for c in customers.values())):
        for d in session.scalars(
            select(Draft)
            .options(lightweight)
            .where(Draft.campaign_id.in_(list(campaigns)), Draft.customer_id.in_(pk_chunk))
            .order_by(Draft.variant_index, Draft.created_at)
        ):
            drafts[(d.campaign_id or "", d.customer_id)].append(d)

    answers: list[tuple[int, Answer]] = []
    leftover: list[int] = []
    contacted: set[tuple[int, str]] = set()
    for i, req in enumerate(items):
        if req.idempotency_key in seen:
            leftover.append(i)  # a replay (or a key reused in this very batch): the single path answers it
            continue
        seen.add(req.idempotency_key)
        campaign = campaigns.get(req.campaign_id)
        if campaign is None:
            results[i] = NotFound(f"no campaign {req.campaign_id!r}", code="campaign_not_found", field="campaign_id")
            continue
        try:
            check_channel(req.channel.value, frozenset(campaign.channels))
        except CopyloomError as exc:
            results[i] = exc
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
        snapshot = DecisionSnapshot(
            gate,
            frozenset(campaign.channels),
            Approval.model_validate(campaign.approval).mode == "sample",
            drafts[(campaign.id, customer.id)] + drafts[(campaign.id, None)],
        )
        plan = plan_decision(snapshot, req.channel.value, lambda ds: thompson_pick(session, ds, rng))
        if isinstance(plan, Generate):
            leftover.append(i)  # generation within a deadline: the single path
            continue
        answer = answer_for(req, customer.id, plan)
        answers.append((i, answer))
        if answer.draft_id is not None:
            contacted.add((customer.id, req.channel.value))
    return answers, leftover, policies


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
            answers, leftover, policies = _plan(session, engine, workspace_id, items, rng, results, read_at)
        try:
            with write_connection(bound_engine(factory)) as conn:
                outs = store_answers(conn, workspace_id, [a for _, a in answers], policies)
        except IntegrityError:  # a concurrent request used one of these keys: decide them one by one
            return sorted(leftover + [i for i, _ in answers])
        for (i, _), out in zip(answers, outs, strict=True):
            results[i] = out
            metrics.decisions(out.decision, out.source or "none").inc()
        return sorted(leftover)

    for i in await anyio.to_thread.run_sync(_bulk):
        try:
            results[i] = await decide(engine, factory, workspace_id, items[i], rng=rng)
        except CopyloomError as exc:
            results[i] = exc
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]
