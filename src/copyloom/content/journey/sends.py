"""The one writer of sends: contact history is written here and nowhere else.

A check made before the lock is advice. So a send is written in three steps inside the caller's write
transaction: ``lock_customers`` locks the customers (PostgreSQL ``SELECT … FOR UPDATE``; on SQLite every write
transaction already holds the database's one write lock), reads the clock and re-reads what the gate depends on
that other requests change (consents, the global suppression, contact history, complaints); ``record_sends`` then
runs the gate on that snapshot and inserts a contact record only for the sends it allows. Only ``lock_customers``
makes the ``Locked`` handle that ``record_sends`` needs. Consent withdrawals (an unsubscribe outcome,
``record_consent``) take the same lock, so a send is either committed before a withdrawal or refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from copyloom.contracts.brand import BrandPolicies
from copyloom.contracts.enums import ContactKind, Purpose
from copyloom.domain.consents import consent_in_force, lock_customer
from copyloom.domain.contacts import insert_contacts, is_suppressed, lock_customer_rows
from copyloom.guardrails.gate import GateDecision, GateInput, GateReason, evaluate_gate
from copyloom.guardrails.gate_loader import GATE_COLUMNS, load_gate_input, load_gate_inputs
from copyloom.models import utcnow


@dataclass(frozen=True, slots=True)
class PlannedSend:
    """One message a decision wants to send."""

    customer_pk: int
    channel: str
    draft_id: str
    campaign_id: str | None
    summary: str
    send_at: datetime | None = None


@dataclass(slots=True)
class Locked:
    """Customers locked by the current transaction, with the gate's snapshot of each read after the lock."""

    db: Connection | Session
    now: datetime
    snapshots: dict[int, GateInput]

    def gate(self, customer_pk: int, channel: str, send_at: datetime | None) -> GateDecision:
        """The gate's answer for a marketing message, on what is committed now."""
        return evaluate_gate(
            self.snapshots[customer_pk],
            channel=channel,
            purpose=Purpose.MARKETING,
            now=self.now,
            send_at=send_at,
            realtime=True,
        )


def lock_customers(
    db: Connection | Session, customer_pks: Sequence[int], policies: BrandPolicies, now: datetime | None = None
) -> Locked:
    """Lock the customers in primary-key order (two batches never wait on each other in a cycle), then read the
    clock and their gate snapshots. Lock every customer the transaction writes rows for: a foreign key takes a
    share lock on the customer row, and taking those one by one is what lets two batches deadlock. The clock is
    read once the locks are held, so every send committed before is in its past (``now`` pins it, for tests)."""
    customers = lock_customer_rows(db, customer_pks, GATE_COLUMNS)
    now = now or utcnow()
    if len(customers) == 1:
        c = customers[0]
        snapshots = {c.id: load_gate_input(db, c.workspace_id, c.external_id, now, customer=c, policies=policies)}
    else:
        snapshots = load_gate_inputs(db, customers, now, policies)
    return Locked(db, now, snapshots)


def record_sends(workspace_id: str, sends: Sequence[PlannedSend], locked: Locked) -> dict[int, GateDecision]:
    """Write the sends the gate still allows on the locked snapshot; return the refusals by position in ``sends``
    (nothing is written for them). Two sends to one customer meet each other in the fatigue rules, as if written
    one after the other."""
    refused: dict[int, GateDecision] = {}
    rows: list[dict[str, object]] = []
    for i, send in enumerate(sends):
        if send.customer_pk not in locked.snapshots:
            raise ValueError(f"customer {send.customer_pk} is not locked by this transaction")
        gate = locked.gate(send.customer_pk, send.channel, send.send_at)
        if not gate.allowed:
            refused[i] = gate
            continue
        occurred_at = send.send_at or locked.now
        snapshot = locked.snapshots[send.customer_pk]
        locked.snapshots[send.customer_pk] = dataclasses.replace(
            snapshot, sent=(*snapshot.sent, (send.channel, occurred_at))
        )
        rows.append(
            {
                "workspace_id": workspace_id,
                "customer_id": send.customer_pk,
                "channel": send.channel,
                "kind": ContactKind.SENT,
                "occurred_at": occurred_at,
                "draft_id": send.draft_id,
                "campaign_id": send.campaign_id,
                "summary": send.summary[:200],
                "created_at": locked.now,
            }
        )
    insert_contacts(locked.db, rows)
    return refused


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
    if purpose != Purpose.TRANSACTIONAL and is_suppressed(db, customer_pk):
        return GateReason.GLOBALLY_SUPPRESSED
    if not consent_in_force(db, customer_pk, purpose, channel, at):
        return GateReason.NO_CONSENT
    return None
