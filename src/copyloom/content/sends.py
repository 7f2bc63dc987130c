"""The one writer of sends: contact history is written here and nowhere else.

A decision may be taken on a snapshot read without locks, but a check made before the lock is advice. So a send is
written in three steps inside the caller's write transaction: lock the customer (PostgreSQL ``SELECT … FOR
UPDATE``; on SQLite every write transaction already holds the database's one write lock), re-read what the gate
depends on that other requests change (consents, the global suppression, contact history, complaints) and run the
gate again, then insert the contact record only if it still allows the send. Consent withdrawals (an unsubscribe
outcome, ``record_consent``) take the same lock, so a send is either committed before a withdrawal or refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import Session

from copyloom.domain.brand import BrandPolicies
from copyloom.domain.consents import consent_in_force, lock_customer
from copyloom.domain.enums import Purpose
from copyloom.guardrails.gate import GateDecision, GateInput, GateReason, evaluate_gate
from copyloom.guardrails.gate_loader import GATE_COLUMNS, load_gate_inputs
from copyloom.models import ContactRecord, Customer, utcnow

CONTACTS: Table = ContactRecord.__table__  # type: ignore[assignment]
CHUNK = 900  # bound parameters per IN list (SQLite's default limit is 999)


@dataclass(frozen=True, slots=True)
class PlannedSend:
    """One message a decision wants to send."""

    customer_pk: int
    channel: str
    draft_id: str
    campaign_id: str | None
    summary: str
    send_at: datetime | None = None


def record_sends(
    db: Connection | Session,
    workspace_id: str,
    sends: Sequence[PlannedSend],
    policies: BrandPolicies,
    now: datetime | None = None,
    *,
    also_lock: Sequence[int] = (),
) -> dict[int, GateDecision]:
    """Lock the customers, run the gate again on what is committed now, and write the sends it still allows.

    Returns the refusals by position in ``sends`` (nothing is written for them). Two sends to one customer in the
    same call meet each other in the fatigue rules, as if written one after the other. The clock is read once the
    locks are held, so every send committed before is in its past (``now`` pins it, for tests).

    ``also_lock``: other customers the caller's transaction writes rows for (a foreign key takes a share lock on
    the customer row): locking them all at once, in one order, is what keeps two batches from deadlocking."""
    pks = sorted({s.customer_pk for s in sends} | set(also_lock))
    if not pks:
        return {}
    customers = []
    for start in range(0, len(pks), CHUNK):
        chunk = pks[start : start + CHUNK]
        # Lock and read in one statement, in primary-key order (two batches never wait on each other in a cycle).
        customers += list(
            db.execute(select(*GATE_COLUMNS).where(Customer.id.in_(chunk)).order_by(Customer.id).with_for_update())
        )
    now = now or utcnow()
    if not sends:
        return {}
    snapshots: dict[int, GateInput] = load_gate_inputs(db, customers, now, policies)
    refused: dict[int, GateDecision] = {}
    rows: list[dict[str, object]] = []
    for i, send in enumerate(sends):
        snapshot = snapshots[send.customer_pk]
        gate = evaluate_gate(
            snapshot, channel=send.channel, purpose=Purpose.MARKETING, now=now, send_at=send.send_at, realtime=True
        )
        if not gate.allowed:
            refused[i] = gate
            continue
        occurred_at = send.send_at or now
        snapshots[send.customer_pk] = dataclasses.replace(snapshot, sent=(*snapshot.sent, (send.channel, occurred_at)))
        rows.append(
            {
                "workspace_id": workspace_id,
                "customer_id": send.customer_pk,
                "channel": send.channel,
                "kind": "sent",
                "occurred_at": occurred_at,
                "draft_id": send.draft_id,
                "campaign_id": send.campaign_id,
                "summary": send.summary[:200],
                "created_at": now,
            }
        )
    if rows:
        db.execute(CONTACTS.insert(), rows)
    return refused


def record_send(
    db: Connection | Session,
    workspace_id: str,
    send: PlannedSend,
    policies: BrandPolicies,
    now: datetime | None = None,
) -> GateDecision | None:
    """``record_sends`` for one send: None when written, else the gate's refusal."""
    return record_sends(db, workspace_id, [send], policies, now).get(0)


def recheck_consent(
    db: Connection | Session,
    customer_pk: int,
    channel: str,
    at: datetime,
    purpose: Purpose = Purpose.MARKETING,
) -> GateReason | None:
    """Why nothing may be stored as sendable for this customer and channel now, or None.

    For writers of drafts that were generated from a snapshot read earlier (campaign targets): it takes the
    customer's lock, so a withdrawal committed during generation is seen here, and one committed later queues
    behind this transaction."""
    lock_customer(db, customer_pk)
    if (
        purpose != Purpose.TRANSACTIONAL
        and db.execute(select(Customer.suppressed).where(Customer.id == customer_pk)).scalar()
    ):
        return GateReason.GLOBALLY_SUPPRESSED
    if not consent_in_force(db, customer_pk, purpose, channel, at):
        return GateReason.NO_CONSENT
    return None
