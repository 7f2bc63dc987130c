"""Small ORM helpers to put exactly the rows a retrieval test needs into a workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from copyloom.models import (
    Consent,
    ContactRecord,
    Customer,
    Event,
    KnowledgeItem,
    Note,
    Offer,
    Order,
    OrderLine,
    Product,
    Workspace,
)

NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def workspace(s: Session, ws: str) -> str:
    s.add(Workspace(id=ws, name=f"Brand {ws}"))
    s.flush()
    return ws


def customer(
    s: Session,
    ws: str,
    ext: str,
    *,
    name: str = "Ann Lee",
    personalization: str | None = "granted",
    channels: tuple[str, ...] = ("email",),
    attributes: dict[str, Any] | None = None,
    locale: str = "en",
) -> Customer:
    c = Customer(workspace_id=ws, external_id=ext, name=name, locale=locale, attributes=attributes or {})
    s.add(c)
    s.flush()
    if personalization:
        for ch in channels:
            s.add(
                Consent(
                    workspace_id=ws,
                    customer_id=c.id,
                    purpose="personalization",
                    channel=ch,
                    status=personalization,
                    recorded_at=NOW - timedelta(days=30),
                )
            )
    s.flush()
    return c


def product(
    s: Session,
    ws: str,
    sku: str,
    name: str,
    *,
    price: str | None = "10.00",
    category: str | None = None,
    description: str | None = None,
    active: bool = True,
) -> Product:
    p = Product(
        workspace_id=ws,
        sku=sku,
        name=name,
        category=category,
        description=description,
        price=Decimal(price) if price is not None else None,
        currency="USD",
        active=active,
        url=f"https://shop.example/{sku}",
    )
    s.add(p)
    s.flush()
    return p


def order(
    s: Session,
    ws: str,
    c: Customer,
    ext: str,
    lines: list[tuple[str, int, str]],
    *,
    days_ago: int = 10,
    status: str = "completed",
) -> Order:
    o = Order(
        workspace_id=ws,
        customer_id=c.id,
        external_id=ext,
        placed_at=NOW - timedelta(days=days_ago),
        status=status,
        currency="USD",
    )
    o.lines = [
        OrderLine(position=i, sku=sku, name=f"Item {sku}", quantity=q, unit_price=Decimal(pr))
        for i, (sku, q, pr) in enumerate(lines)
    ]
    s.add(o)
    s.flush()
    return o


def note(s: Session, ws: str, c: Customer, ext: str, text: str) -> Note:
    n = Note(workspace_id=ws, customer_id=c.id, external_id=ext, text=text)
    s.add(n)
    s.flush()
    return n


def offer(
    s: Session,
    ws: str,
    ext: str,
    *,
    eligibility: dict[str, Any] | None = None,
    days_left: int = 10,
    code: str | None = None,
) -> Offer:
    o = Offer(
        workspace_id=ws,
        external_id=ext,
        title=f"Offer {ext}",
        discount_type="percent",
        discount_value=Decimal("20"),
        code=code or ext,
        valid_from=NOW - timedelta(days=5),
        valid_to=NOW + timedelta(days=days_left),
        eligibility=eligibility or {},
    )
    s.add(o)
    s.flush()
    return o


def knowledge(s: Session, ws: str, ext: str, title: str, text: str) -> KnowledgeItem:
    k = KnowledgeItem(workspace_id=ws, external_id=ext, title=title, text=text)
    s.add(k)
    s.flush()
    return k


def event(s: Session, ws: str, c: Customer, ext: str, name: str, props: dict[str, Any], days_ago: int = 2) -> Event:
    e = Event(
        workspace_id=ws,
        customer_id=c.id,
        external_id=ext,
        name=name,
        properties=props,
        occurred_at=NOW - timedelta(days=days_ago),
    )
    s.add(e)
    s.flush()
    return e


def contact(s: Session, ws: str, c: Customer, summary: str, days_ago: int = 3) -> ContactRecord:
    r = ContactRecord(
        workspace_id=ws, customer_id=c.id, channel="email", summary=summary, occurred_at=NOW - timedelta(days=days_ago)
    )
    s.add(r)
    s.flush()
    return r
