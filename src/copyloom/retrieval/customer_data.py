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

from sqlalchemy import BindParameter, Select, bindparam, func, select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import OrderStatus
from copyloom.db import in_chunks
from copyloom.domain.consents import consents_in_force, personalization_in_force
from copyloom.models import ContactRecord, Customer, Event, Note, Order, OrderLine

__all__ = [
    "CustomerData",
    "PurchaseLine",
    "PurchaseSummary",
    "load_personal_data",
    "load_personal_datas",
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


# The statements are built once, with the customers as parameters (``ws``, and ``pks`` expanding): constructing a
# select costs more CPU than SQLite answering it. A campaign worker runs them once per leased chunk of customers;
# one customer (a draft request) is a chunk of one.
def _pks() -> BindParameter[Any]:
    return bindparam("pks", expanding=True)


_COMPLETED = (
    Order.workspace_id == bindparam("ws"),
    Order.customer_id.in_(_pks()),
    Order.status == OrderStatus.COMPLETED.value,  # a cancelled or refunded order is not a purchase
)
_AGG = (
    select(Order.customer_id, func.count(Order.id), func.min(Order.placed_at), func.max(Order.placed_at))
    .where(*_COMPLETED)
    .group_by(Order.customer_id)
)
_SPEND = (
    select(Order.customer_id, func.sum(OrderLine.quantity * OrderLine.unit_price), func.max(Order.currency))
    .join(Order, Order.id == OrderLine.order_id)
    .where(*_COMPLETED)
    .group_by(Order.customer_id)
)
_RECENT_ORDERS = (
    select(
        Order.id,
        func.row_number()
        .over(partition_by=Order.customer_id, order_by=(Order.placed_at.desc(), Order.id.desc()))
        .label("rn"),
    )
    .where(*_COMPLETED)
    .subquery()
)
_RECENT_LINES = (
    select(
        Order.customer_id,
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
    .join(_RECENT_ORDERS, _RECENT_ORDERS.c.id == Order.id)
    .where(_RECENT_ORDERS.c.rn <= RECENT_ORDERS)
    .order_by(Order.customer_id, Order.placed_at.desc(), OrderLine.position)
)
_SKU_COUNTS = (
    select(Order.customer_id, OrderLine.sku, func.count(OrderLine.id))
    .join(Order, Order.id == OrderLine.order_id)
    .where(*_COMPLETED)
    .group_by(Order.customer_id, OrderLine.sku)
)


def _latest(model: Any, at: Any, limit: int) -> Select[Any]:
    """Each customer's ``limit`` newest rows of ``model`` (by ``at``), customer by customer, newest first."""
    newest = (at.desc(), model.id.desc())
    ranked = (
        select(model.id, func.row_number().over(partition_by=model.customer_id, order_by=newest).label("rn"))
        .where(model.workspace_id == bindparam("ws"), model.customer_id.in_(_pks()))
        .subquery()
    )
    return (
        select(model)
        .join(ranked, ranked.c.id == model.id)
        .where(ranked.c.rn <= limit)
        .order_by(model.customer_id, *newest)
    )


_EVENTS = _latest(Event, Event.occurred_at, RECENT_EVENTS)
_CONTACTS = _latest(ContactRecord, ContactRecord.occurred_at, RECENT_CONTACTS)
_NOTES = _latest(Note, Note.created_at, MAX_NOTES)


def load_personal_data(session: Session, customer: Customer) -> CustomerData:
    """Purchases (cancelled and refunded orders excluded), events, contact history and notes of one customer."""
    return load_personal_datas(session, [customer])[customer.id]


def load_personal_datas(session: Session, customers: Sequence[Customer]) -> dict[int, CustomerData]:
    """``load_personal_data`` for many customers of one workspace: seven queries per 900 customers, whatever
    their number."""
    out: dict[int, CustomerData] = {c.id: CustomerData() for c in customers}
    by_workspace: dict[str, list[int]] = {}
    for c in customers:
        by_workspace.setdefault(c.workspace_id, []).append(c.id)
    for workspace_id, pks in by_workspace.items():
        for chunk in in_chunks(pks):
            _load_into(session, out, {"ws": workspace_id, "pks": chunk})
    return out


def _load_into(session: Session, out: dict[int, CustomerData], params: dict[str, Any]) -> None:
    buyers = {pk: (n, first, last) for pk, n, first, last in session.execute(_AGG, params) if n}
    if buyers:  # the order queries only for customers who have completed orders
        _load_purchases(session, out, params | {"pks": list(buyers)}, buyers)
    for ev in session.scalars(_EVENTS, params):
        out[ev.customer_id].events.append(ev)
    for contact in session.scalars(_CONTACTS, params):
        out[contact.customer_id].contacts.append(contact)
    for note in session.scalars(_NOTES, params):
        out[note.customer_id].notes.append(note)


def _load_purchases(
    session: Session, out: dict[int, CustomerData], params: dict[str, Any], buyers: dict[int, tuple[Any, Any, Any]]
) -> None:
    spend = {pk: (total, currency) for pk, total, currency in session.execute(_SPEND, params)}
    for pk, (orders, first, last) in buyers.items():
        total, currency = spend.get(pk, (None, None))
        out[pk].summary = PurchaseSummary(
            orders=int(orders),
            first_order_at=_aware(first),
            last_order_at=_aware(last),
            spend=Decimal(str(total or 0)).quantize(Decimal("0.01")),
            currency=currency,
        )
    for r in session.execute(_RECENT_LINES, params):
        lines = out[r[0]].recent_lines
        if len(lines) < RECENT_LINES:
            lines.append(
                PurchaseLine(r[1], r[2], _aware(r[3]) or r[3], r[4], r[5], r[6], int(r[7]), Decimal(str(r[8])))
            )
    counts: dict[int, list[tuple[str, int]]] = {}
    for pk, sku, n in session.execute(_SKU_COUNTS, params):
        counts.setdefault(pk, []).append((str(sku), int(n)))
    for pk, skus in counts.items():
        out[pk].top_skus = sorted(skus, key=lambda sn: (-sn[1], sn[0]))[:TOP_SKUS]


def _aware(value: datetime | None) -> datetime | None:
    # aggregates bypass the UTCDateTime column type on SQLite and come back naive (or as text)
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
