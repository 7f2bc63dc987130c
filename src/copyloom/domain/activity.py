"""Behavioural events and orders: schemas, idempotent writes and batch imports.

An event's identity is the sender's message id, or else a hash of its content, so a re-sent event is a no-op.
An order's identity is its external id; re-sending it with other lines or status updates it in place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Connection, Row, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import OrderStatus
from copyloom.db import in_chunks
from copyloom.domain.customers import Attributes, get_customer
from copyloom.domain.fields import Currency, ExternalId, Money, Name, Sku, Title, UtcDateTime
from copyloom.domain.imports import ImportReport, Outcome, as_utc, assign_changes, import_rows, money
from copyloom.models import Customer, Event, Order, OrderLine


class EventIn(BaseModel):
    """Something a customer did, e.g. "Event Attended" or "App Member Joined"."""

    model_config = ConfigDict(extra="forbid")

    customer_id: ExternalId
    name: Name
    properties: Attributes = Field(default_factory=dict)
    timestamp: UtcDateTime
    message_id: ExternalId | None = Field(default=None, description="Sender's id; re-sending it is a no-op.")


class OrderLineIn(BaseModel):
    """One product line of an order."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    name: Title | None = None
    quantity: int = Field(default=1, ge=1, le=1_000_000)
    unit_price: Money = Decimal("0")


class OrderIn(BaseModel):
    """An order with its lines; ``total`` defaults to the sum of the lines."""

    model_config = ConfigDict(extra="forbid")

    id: ExternalId
    customer_id: ExternalId
    placed_at: UtcDateTime
    status: OrderStatus = OrderStatus.COMPLETED
    currency: Currency = "USD"
    total: Money | None = None
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=1000)


def event_external_id(customer_external_id: str, data: EventIn) -> str:
    if data.message_id:
        return data.message_id
    canonical = json.dumps(
        [customer_external_id, data.name, data.timestamp.isoformat(), data.properties],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return "h:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:40]


def record_event(
    session: Session, workspace_id: str, data: EventIn, customer: Customer | None = None
) -> tuple[Event, Outcome]:
    """Store one event once; the customer must exist unless given (NotFound otherwise)."""
    customer = customer or get_customer(session, workspace_id, data.customer_id)
    external_id = event_external_id(customer.external_id, data)
    existing = session.scalars(
        select(Event).where(Event.workspace_id == workspace_id, Event.external_id == external_id)
    ).first()
    if existing is not None:
        return existing, "unchanged"
    row = Event(
        workspace_id=workspace_id,
        customer_id=customer.id,
        external_id=external_id,
        name=data.name,
        properties=data.properties,
        occurred_at=data.timestamp,
    )
    session.add(row)
    session.flush()
    return row, "inserted"


def import_events(session: Session, workspace_id: str, rows: Iterable[object]) -> ImportReport:
    """Record many events; rows for unknown customers are skipped (reason customer_not_found)."""

    def apply(s: Session, record: EventIn) -> Outcome:
        return record_event(s, workspace_id, record)[1]

    return import_rows(session, rows, EventIn, apply)


def _line_tuples(lines: Iterable[Any]) -> list[tuple[str, str | None, int, Decimal]]:
    return [(ln.sku, ln.name, ln.quantity, money(Decimal(ln.unit_price))) for ln in lines]


def upsert_order(
    session: Session, workspace_id: str, data: OrderIn, customer: Customer | None = None
) -> tuple[Order, Outcome]:
    """Create or update one order with its lines; identical data is "unchanged"."""
    customer = customer or get_customer(session, workspace_id, data.customer_id)
    total = data.total
    if total is None:
        total = money(sum((ln.unit_price * ln.quantity for ln in data.lines), Decimal("0")))
    values = {
        "customer_id": customer.id,
        "placed_at": as_utc(data.placed_at),
        "status": data.status.value,
        "currency": data.currency,
        "total": total,
    }
    row = session.scalars(select(Order).where(Order.workspace_id == workspace_id, Order.external_id == data.id)).first()
    new_lines = [
        OrderLine(position=i, sku=ln.sku, name=ln.name, quantity=ln.quantity, unit_price=ln.unit_price)
        for i, ln in enumerate(data.lines)
    ]
    if row is None:
        row = Order(workspace_id=workspace_id, external_id=data.id, **values)
        row.lines = new_lines
        session.add(row)
        session.flush()
        return row, "inserted"
    changed = assign_changes(row, values)
    if _line_tuples(row.lines) != _line_tuples(data.lines):
        row.lines = new_lines
        changed = True
    if changed:
        session.flush()
    return row, "updated" if changed else "unchanged"


def import_orders(session: Session, workspace_id: str, rows: Iterable[object]) -> ImportReport:
    """Upsert many orders; rows for unknown customers are skipped (reason customer_not_found)."""

    def apply(s: Session, record: OrderIn) -> Outcome:
        return upsert_order(s, workspace_id, record)[1]

    return import_rows(session, rows, OrderIn, apply)


INBOUND_WHATSAPP_EVENTS = ("Inbound Message", "WhatsApp Message Received")


def _weighed_by_the_gate(since: Any, now: Any) -> ColumnElement[bool]:
    lowered = func.lower(Event.name)
    return and_(
        Event.occurred_at >= since,
        Event.occurred_at <= now,
        or_(lowered.contains("complaint"), lowered.contains("refund"), Event.name.in_(INBOUND_WHATSAPP_EVENTS)),
    )


# Built once: the consent gate reads it on every real-time decision (the customers as an expanding ``pks``).
_GATE_EVENTS = select(Event.customer_id, Event.name, Event.occurred_at, Event.properties).where(
    Event.customer_id.in_(bindparam("pks", expanding=True)),
    _weighed_by_the_gate(
        bindparam("since", type_=Event.occurred_at.type), bindparam("now", type_=Event.occurred_at.type)
    ),
)


def gate_events(
    db: Session | Connection, customer_pks: Sequence[int], since: datetime, now: datetime
) -> dict[int, list[Row[Any]]]:
    """Per customer: the events the consent gate weighs (complaints, refunds, inbound messages) from ``since`` to
    ``now``, as rows of (customer_id, name, occurred_at, properties); one query per 900 customers."""
    events: dict[int, list[Row[Any]]] = {pk: [] for pk in customer_pks}
    for chunk in in_chunks(customer_pks):
        for ev in db.execute(_GATE_EVENTS, {"pks": chunk, "since": since, "now": now}):
            events[ev.customer_id].append(ev)
    return events
