"""Behavioural events and orders: schemas, idempotent writes and batch imports.

An event's identity is the sender's message id, or else a hash of its content, so a re-sent event is a no-op.
An order's identity is its external id; re-sending it with other lines or status updates it in place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import OrderStatus
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
