"""SQL reads for one customer's bundle: few queries, each bounded, every one scoped to the workspace.

Personalization consent is the domain's one rule (``domain.consents``), the same the gate applies: the
channel's own ``personalization`` record, else an every-channel record; never another channel's record. No record,
or a global suppression (objection to direct marketing), means no personalization.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import OrderStatus
from copyloom.domain.consents import consents_in_force, personalization_in_force
from copyloom.models import ContactRecord, Customer, Event, Note, Order, OrderLine

__all__ = [
    "CustomerData",
    "PurchaseLine",
    "PurchaseSummary",
    "load_personal_data",
    "personalization_allowed",
]

RECENT_ORDERS = 5
RECENT_LINES = 40  # wholesale customers put hundreds of lines in one order
TOP_SKUS = 8
RECENT_EVENTS = 10
RECENT_CONTACTS = 5
MAX_NOTES = 20


@dataclass(frozen=True)
class PurchaseLine:
    order_external_id: str
    order_row_id: int
    placed_at: datetime
    currency: str
    sku: str
    name: str | None
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class PurchaseSummary:
    """Recency, frequency and monetary value over completed orders."""

    orders: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    spend: Decimal
    currency: str | None


@dataclass
class CustomerData:
    """Everything personal read for one bundle (empty when personalization is not allowed)."""

    summary: PurchaseSummary | None = None
    recent_lines: list[PurchaseLine] = field(default_factory=list)
    top_skus: list[tuple[str, int]] = field(default_factory=list)  # (sku, times bought), most bought first
    events: list[Event] = field(default_factory=list)
    contacts: list[ContactRecord] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def personalization_allowed(
    session: Session, customer: Customer, channels: Sequence[str], at: datetime
) -> dict[str, bool]:
    """Per channel: may a message be written from this customer's personal data (the domain's consent rule)."""
    consents = consents_in_force(session, customer.id, at)
    return {ch: personalization_in_force(consents, ch, suppressed=customer.suppressed) for ch in channels}


# The statements are built once, with the customer as parameters (``ws``, ``cid``): constructing a select costs
# more CPU than SQLite answering it, and a campaign worker runs these once per customer.
_COMPLETED = (
    Order.workspace_id == bindparam("ws"),
    Order.customer_id == bindparam("cid"),
    Order.status == OrderStatus.COMPLETED.value,  # a cancelled or refunded order is not a purchase
)
_AGG = select(func.count(Order.id), func.min(Order.placed_at), func.max(Order.placed_at)).where(*_COMPLETED)
_SPEND = (
    select(func.sum(OrderLine.quantity * OrderLine.unit_price), func.max(Order.currency))
    .join(Order, Order.id == OrderLine.order_id)
    .where(*_COMPLETED)
)
_RECENT_LINES = (
    select(
        Order.external_id,
        Order.id,
        Order.placed_at,
        Order.currency,
        OrderLine.sku,
        OrderLine.name,
        OrderLine.quantity,
        OrderLine.unit_price,
    )
    .join(OrderLine, OrderLine.order_id == Order.id)
    .where(
        Order.id.in_(
            select(Order.id).where(*_COMPLETED).order_by(Order.placed_at.desc()).limit(RECENT_ORDERS).scalar_subquery()
        )
    )
    .order_by(Order.placed_at.desc(), OrderLine.position)
    .limit(RECENT_LINES)
)
_TOP_SKUS = (
    select(OrderLine.sku, func.count(OrderLine.id).label("n"))
    .join(Order, Order.id == OrderLine.order_id)
    .where(*_COMPLETED)
    .group_by(OrderLine.sku)
    .order_by(func.count(OrderLine.id).desc(), OrderLine.sku)
    .limit(TOP_SKUS)
)


def _latest(model: Any, at: Any, limit: int) -> Select[Any]:
    """The customer's ``limit`` newest rows of ``model`` (by ``at``)."""
    where = (model.workspace_id == bindparam("ws"), model.customer_id == bindparam("cid"))
    return select(model).where(*where).order_by(at.desc()).limit(limit)


_EVENTS = _latest(Event, Event.occurred_at, RECENT_EVENTS)
_CONTACTS = _latest(ContactRecord, ContactRecord.occurred_at, RECENT_CONTACTS)
_NOTES = _latest(Note, Note.created_at, MAX_NOTES)


def load_personal_data(session: Session, customer: Customer) -> CustomerData:
    """Purchases (cancelled and refunded orders excluded), events, contact history and notes of one customer."""
    params = {"ws": customer.workspace_id, "cid": customer.id}
    data = CustomerData()
    agg = session.execute(_AGG, params).one()
    if agg[0]:
        spend_row = session.execute(_SPEND, params).one()
        first, last = (_aware(agg[1]), _aware(agg[2]))
        data.summary = PurchaseSummary(
            orders=int(agg[0]),
            first_order_at=first,
            last_order_at=last,
            spend=Decimal(str(spend_row[0] or 0)).quantize(Decimal("0.01")),
            currency=spend_row[1],
        )
        rows = session.execute(_RECENT_LINES, params).all()
        data.recent_lines = [
            PurchaseLine(r[0], r[1], _aware(r[2]) or r[2], r[3], r[4], r[5], int(r[6]), Decimal(str(r[7])))
            for r in rows
        ]
        top = session.execute(_TOP_SKUS, params).all()
        data.top_skus = [(str(s), int(n)) for s, n in top]
    data.events = list(session.scalars(_EVENTS, params))
    data.contacts = list(session.scalars(_CONTACTS, params))
    data.notes = list(session.scalars(_NOTES, params))
    return data


def _aware(value: datetime | None) -> datetime | None:
    # aggregates bypass the UTCDateTime column type on SQLite and come back naive (or as text)
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
