"""Many decisions at once, for journey engines that ask about whole audiences.

One read for the batch (customers, keys and the campaigns' drafts in a handful of queries), then, under the
customers' locks, their gate snapshots (consents, history, events: three queries per 900 customers), the same pure
policy as a single decision for each item, and one write through the same ``store_answers``. What the snapshot cannot answer (a
repeated key, a second message to one customer in the batch, generation within a deadline) goes through the
single-decision path, so both paths give the same answers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import anyio
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content import metrics
from copyloom.content.engine import ContentEngine
from copyloom.content.journey.policy import Generate, check_channel
from copyloom.content.journey.schemas import DecisionOut, DecisionRequest
from copyloom.content.journey.sends import lock_customers
from copyloom.content.journey.service import Answer, Ask, answer_for, decide, plan_locked, store_answers, thompson_pick
from copyloom.contracts.brand import BrandPolicies
from copyloom.db import read, write
from copyloom.domain.campaigns import Approval, campaigns_by_id
from copyloom.domain.contacts import used_decision_keys
from copyloom.domain.customers import find_customer_pks
from copyloom.domain.drafts import campaign_drafts
from copyloom.errors import CopyloomError, NotFound


def _read(
    session: Session,
    engine: ContentEngine,
    workspace_id: str,
    items: Sequence[DecisionRequest],
    results: list[DecisionOut | CopyloomError | None],
) -> tuple[list[tuple[int, Ask]], list[int], BrandPolicies]:
    """What the batch reads before taking the locks; answers unknown campaigns, customers and channels."""
    seen = used_decision_keys(session, workspace_id, [r.idempotency_key for r in items])
    campaigns = campaigns_by_id(session, workspace_id, {r.campaign_id for r in items})
    customers = find_customer_pks(session, workspace_id, sorted({r.customer_id for r in items}))
    # What the policy reads of the campaigns: each customer's own drafts (any status) and the controls.
    drafts = campaign_drafts(session, list(campaigns), list(customers.values()))

    asks: list[tuple[int, Ask]] = []
    leftover: list[int] = []
    for i, req in enumerate(items):
        if req.idempotency_key in seen:
            leftover.append(i)  # a replay (or a key reused in this very batch): the single path answers it
            continue
        seen.add(req.idempotency_key)
        campaign = campaigns.get(req.campaign_id)
        if campaign is None:
            results[i] = NotFound(f"no campaign {req.campaign_id!r}", code="campaign_not_found", field="campaign_id")
            continue
        channels = frozenset(campaign.channels)
        try:
            check_channel(req.channel.value, channels)
        except CopyloomError as exc:
            results[i] = exc
            continue
        pk = customers.get(req.customer_id)
        if pk is None:
            results[i] = NotFound(f"no customer {req.customer_id!r}", code="customer_not_found", field="customer_id")
            continue
        generates = Approval.model_validate(campaign.approval).mode == "sample"
        asks.append((i, Ask(req, pk, channels, generates, drafts[(campaign.id, pk)] + drafts[(campaign.id, None)])))
    return asks, leftover, engine.brand(session, workspace_id).policies


def _decide_locked(
    conn: Connection, workspace_id: str, asks: list[tuple[int, Ask]], policies: BrandPolicies, rng: random.Random
) -> tuple[list[tuple[int, DecisionOut]], list[int]]:
    """Under the customers' locks: the gate and the policy per item, then one write through ``store_answers``."""
    locked = lock_customers(conn, [a.customer_pk for _, a in asks], policies)
    answers: list[tuple[int, Answer]] = []
    leftover: list[int] = []
    contacted: set[tuple[int, str]] = set()
    for i, ask in asks:
        slot = (ask.customer_pk, ask.req.channel.value)
        if slot in contacted:
            leftover.append(i)  # a second message to one customer: decided once the first is stored
            continue
        _, plan = plan_locked(locked, ask, lambda ds: thompson_pick(conn, ds, rng))
        if isinstance(plan, Generate):
            leftover.append(i)  # generation within a deadline: the single path
            continue
        answer = answer_for(ask.req, ask.customer_pk, plan)
        answers.append((i, answer))
        if answer.draft_id is not None:
            contacted.add(slot)
    outs = store_answers(conn, workspace_id, [a for _, a in answers], locked)
    return [(i, out) for (i, _), out in zip(answers, outs, strict=True)], leftover


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
        with read(factory) as session:
            asks, leftover, policies = _read(session, engine, workspace_id, items, results)
        try:
            with write(factory) as session:
                decided, later = _decide_locked(session.connection(), workspace_id, asks, policies, rng)
        except IntegrityError:  # a concurrent request used one of these keys: decide them one by one
            return sorted(leftover + [i for i, _ in asks])
        for i, out in decided:
            results[i] = out
            metrics.decisions(out.decision, out.source or "none").inc()
        return sorted(leftover + later)

    for i in await anyio.to_thread.run_sync(_bulk):
        try:
            results[i] = await decide(engine, factory, workspace_id, items[i], rng=rng)
        except CopyloomError as exc:
            results[i] = exc
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]
