"""The contacts' repository: the SQL of contact history (sends), journey decisions and the customer locks that
order them with consent withdrawals.

``content/journey/sends.py`` decides what may be written (the gate under the lock); this module only reads and
writes rows. Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, bindparam, select
from sqlalchemy.orm import Session

from copyloom.db import in_chunks
from copyloom.models import ContactRecord, Customer, Decision

CONTACTS: Table = ContactRecord.__table__  # type: ignore[assignment]
DECISIONS: Table = Decision.__table__  # type: ignore[assignment]

_STORED = select(Decision.campaign_id, Decision.channel, Decision.response).where(
    Decision.workspace_id == bindparam("ws"), Decision.idempotency_key == bindparam("key")
)
_LOCK_ONE: dict[tuple[Any, ...], Select[Any]] = {}  # a few entries: one per caller's column list


def lock_customer_rows(db: Connection | Session, customer_pks: Sequence[int], columns: Sequence[Any]) -> list[Row[Any]]:
    """Lock the customers (PostgreSQL ``FOR UPDATE``; SQLite's write transaction already holds the one write
    lock) in primary-key order, so two batches never wait on each other in a cycle; their ``columns``."""
    pks = sorted(set(customer_pks))
    if len(pks) == 1:  # a single decision: a statement built once per column list
        key = tuple(columns)
        lock_one = _LOCK_ONE.get(key)
        if lock_one is None:
            lock_one = _LOCK_ONE[key] = select(*columns).where(Customer.id == bindparam("pk")).with_for_update()
        return list(db.execute(lock_one, {"pk": pks[0]}))
    rows: list[Row[Any]] = []
    for chunk in in_chunks(pks):
        rows += list(db.execute(select(*columns).where(Customer.id.in_(chunk)).order_by(Customer.id).with_for_update()))
    return rows


def is_suppressed(db: Connection | Session, customer_pk: int) -> bool:
    """Whether the customer is globally suppressed (no marketing on any channel)."""
    return bool(db.execute(select(Customer.suppressed).where(Customer.id == customer_pk)).scalar())


def insert_contacts(db: Connection | Session, rows: Sequence[dict[str, object]]) -> None:
    """Insert contact-history rows (plain Core insert: the hot path needs no ORM unit of work)."""
    if rows:
        db.execute(CONTACTS.insert(), list(rows))


def insert_decisions(db: Connection | Session, rows: Sequence[dict[str, object]]) -> None:
    """Insert decision rows; the unique (workspace, idempotency key) index turns a repeated key into an
    IntegrityError."""
    if rows:
        db.execute(DECISIONS.insert(), list(rows))


def stored_decision(db: Connection | Session, workspace_id: str, idempotency_key: str) -> Row[Any] | None:
    """The decision stored under this key: (campaign_id, channel, response), or None."""
    return db.execute(_STORED, {"ws": workspace_id, "key": idempotency_key}).first()


def used_decision_keys(session: Session, workspace_id: str, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` already have a stored decision in the workspace."""
    seen: set[str] = set()
    for chunk in in_chunks(keys):
        seen |= set(
            session.scalars(
                select(Decision.idempotency_key).where(
                    Decision.workspace_id == workspace_id, Decision.idempotency_key.in_(chunk)
                )
            )
        )
    return seen


_SENT = select(ContactRecord.customer_id, ContactRecord.channel, ContactRecord.occurred_at).where(
    ContactRecord.customer_id.in_(bindparam("pks", expanding=True)),
    ContactRecord.kind == "sent",
    ContactRecord.occurred_at >= bindparam("since"),
)  # built once: the gate reads it on every decision


def sent_since(
    db: Connection | Session, customer_pks: Sequence[int], since: datetime
) -> dict[int, list[tuple[str, datetime]]]:
    """Per customer: (channel, when) of every message sent to them since ``since`` (one query per 900)."""
    sent: dict[int, list[tuple[str, datetime]]] = {pk: [] for pk in customer_pks}
    for chunk in in_chunks(customer_pks):
        for pk, channel, at in db.execute(_SENT, {"pks": chunk, "since": since}):
            sent[pk].append((channel, at))
    return sent
