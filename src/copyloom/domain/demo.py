"""Load the demo brand into a workspace, in one transaction owned by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from copyloom.contracts.brand import BrandKitSpec
from copyloom.domain import demo_data as d
from copyloom.domain.workspaces import get_workspace
from copyloom.models import (
    BrandKit,
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
    utcnow,
)


@dataclass(frozen=True)
class DemoSummary:
    workspace_id: str
    customers: int
    products: int
    offers: int
    orders: int
    events: int
    notes: int
    consents: int


def _brand_kit(workspace_id: str) -> BrandKit:
    spec = BrandKitSpec.model_validate(d.BRAND)
    return BrandKit(workspace_id=workspace_id, **spec.model_dump(mode="json"))


def load_demo(session: Session, workspace_id: str, now: datetime | None = None) -> DemoSummary:
    """Insert the Northwind Outfitters dataset into an existing, empty workspace."""
    get_workspace(session, workspace_id)
    now = now or utcnow()
    session.add(_brand_kit(workspace_id))

    prices: dict[str, Decimal] = {}
    names: dict[str, str] = {}
    for sku, name, category, price, description, active in d.PRODUCTS:
        prices[sku], names[sku] = Decimal(price), name
        session.add(
            Product(
                workspace_id=workspace_id,
                sku=sku,
                name=name,
                category=category,
                price=Decimal(price),
                currency="USD",
                description=description,
                url=f"https://northwind.example/p/{sku.lower()}",
                active=active,
            )
        )
    for o in d.OFFERS:
        session.add(
            Offer(
                workspace_id=workspace_id,
                external_id=o["id"],
                title=o["title"],
                description=o["description"],
                discount_type=o["discount_type"],
                discount_value=Decimal(o["discount_value"]) if o["discount_value"] is not None else None,
                currency=o.get("currency"),
                code=o["code"],
                valid_from=now + timedelta(days=o["from"]),
                valid_to=now + timedelta(days=o["to"]),
                eligible_skus=o["skus"],
                eligible_categories=o["categories"],
                eligibility=o["eligibility"],
            )
        )
    for k in d.KNOWLEDGE:
        session.add(
            KnowledgeItem(
                workspace_id=workspace_id,
                external_id=k["id"],
                kind=k["kind"],
                title=k["title"],
                text=k["text"],
                locale=k["locale"],
            )
        )

    customers: dict[str, Customer] = {}
    consents = 0
    for c in d.CUSTOMERS:
        row = Customer(
            workspace_id=workspace_id,
            external_id=c["id"],
            name=c["name"],
            email=c["email"],
            phone=c["phone"],
            locale=c["locale"],
            time_zone=c["time_zone"],
            country=c["country"],
            birth_date=date.fromisoformat(c["birth_date"]),
            attributes=c["attributes"],
            suppressed=c.get("suppressed", False),
            suppressed_reason=c.get("suppressed_reason"),
        )
        session.add(row)
        session.flush()
        customers[c["id"]] = row
        # Later entries in the list are later in time (a withdrawal follows the grant it revokes).
        for step, (purpose, channels, status) in enumerate(c["consents"]):
            for channel in channels:
                session.add(
                    Consent(
                        workspace_id=workspace_id,
                        customer_id=row.id,
                        purpose=purpose,
                        channel=channel,
                        status=status,
                        recorded_at=now - timedelta(days=400 - 30 * step),
                        source="demo signup form",
                        wording_version="2025-01",
                    )
                )
                consents += 1

    for cust, order_id, days_ago, status, lines in d.ORDERS:
        order = Order(
            workspace_id=workspace_id,
            customer_id=customers[cust].id,
            external_id=order_id,
            placed_at=now - timedelta(days=days_ago),
            status=status,
            currency="USD",
        )
        order.lines = [
            OrderLine(position=i, sku=sku, name=names[sku], quantity=qty, unit_price=prices[sku])
            for i, (sku, qty) in enumerate(lines)
        ]
        order.total = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0"))
        session.add(order)
    for cust, ev_id, name, days_ago, props in d.EVENTS:
        session.add(
            Event(
                workspace_id=workspace_id,
                customer_id=customers[cust].id,
                external_id=ev_id,
                name=name,
                properties=props,
                occurred_at=now - timedelta(days=days_ago, minutes=5),
            )
        )
    for cust, note_id, kind, text in d.NOTES:
        session.add(
            Note(workspace_id=workspace_id, customer_id=customers[cust].id, external_id=note_id, kind=kind, text=text)
        )
    for cust, channel, contact_days_ago, summary in d.CONTACTS:
        session.add(
            ContactRecord(
                workspace_id=workspace_id,
                customer_id=customers[cust].id,
                channel=channel,
                kind="sent",
                occurred_at=now - timedelta(days=contact_days_ago),
                summary=summary,
            )
        )
    session.flush()
    return DemoSummary(
        workspace_id=workspace_id,
        customers=len(d.CUSTOMERS),
        products=len(d.PRODUCTS),
        offers=len(d.OFFERS),
        orders=len(d.ORDERS),
        events=len(d.EVENTS),
        notes=len(d.NOTES),
        consents=consents,
    )


@dataclass(frozen=True)
class DemoCustomer:
    """One demo customer as ``copyloom demo`` introduces them: who they are and what makes them a test case."""

    id: str
    name: str
    locale: str
    special: list[str]


def describe_demo_customers(today: date | None = None) -> list[DemoCustomer]:
    """The demo's customers with what is special about each (minor, suppressed, consent withdrawn, language)."""
    today = today or utcnow().date()
    minimum_age = BrandKitSpec.model_validate(d.BRAND).policies.minimum_age
    described: list[DemoCustomer] = []
    for c in d.CUSTOMERS:
        special: list[str] = []
        born = date.fromisoformat(c["birth_date"]) if c.get("birth_date") else None
        if born is not None:
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            if age < minimum_age:
                special.append(f"minor ({age}, under {minimum_age})")
        if c.get("suppressed"):
            special.append(f"suppressed: {c.get('suppressed_reason') or 'no reason given'}")
        in_force: dict[tuple[str, str], str] = {}  # records are listed oldest first: the last one holds
        for purpose, channels, status in c["consents"]:
            in_force.update({(purpose, ch): status for ch in channels})
        withdrawn: dict[str, list[str]] = {}
        for (purpose, ch), status in in_force.items():
            if status == "withdrawn":
                withdrawn.setdefault(purpose, []).append(ch)
        special += [f"withdrew {purpose} on {', '.join(chs)}" for purpose, chs in withdrawn.items()]
        granted = [ch for (p, ch), s in in_force.items() if p == "marketing" and s == "granted"]
        if c["locale"].startswith("zh"):
            special.append("Chinese-speaking")
        special.append(f"marketing consent: {', '.join(granted) or 'none'}")
        described.append(DemoCustomer(id=c["id"], name=c["name"], locale=c["locale"], special=special))
    return described
