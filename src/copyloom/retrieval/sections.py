"""Facts of each section, built from rows already loaded. Scores are in [0, 1]; higher survives the budget."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from copyloom.contracts.facts import Fact, FactKind, FactSource, FactValues
from copyloom.models import ContactRecord, Customer, Event, KnowledgeItem, Offer, Product
from copyloom.retrieval.customer_data import PurchaseLine, PurchaseSummary
from copyloom.retrieval.sanitize import clean_text, is_sensitive_key, safe_scalar

# The brand's own texts (products, offers, knowledge) are cleaned for every bundle that cites them, the same text
# again and again: cleaned once. Customers' texts are not kept here.
_clean_brand_text = lru_cache(maxsize=4096)(clean_text)

__all__ = [
    "attribute_facts",
    "contact_facts",
    "eligibility_profile",
    "event_facts",
    "first_name",
    "knowledge_fact",
    "offer_fact",
    "offer_is_eligible",
    "offer_is_live",
    "product_fact",
    "profile_facts",
    "purchase_facts",
]

# Event properties holding what the customer wrote: the fact is marked untrusted.
MAX_PURCHASE_FACTS = 10
_FREE_TEXT_KEYS = frozenset({"text", "message", "body", "comment", "review", "note", "subject", "query"})


def _days(now: datetime, then: datetime) -> float:
    return max((now - then).total_seconds() / 86400.0, 0.0)


def _recency(now: datetime, then: datetime, half_life_days: float) -> float:
    return math.exp(-math.log(2) * _days(now, then) / half_life_days)


def _date(d: datetime) -> str:
    return d.date().isoformat()


def _money(amount: Decimal, currency: str | None) -> str:
    return f"{amount:.2f} {currency}" if currency else f"{amount:.2f}"


def first_name(customer: Customer) -> str | None:
    """The given name to greet with: first word of a Latin name, the whole name otherwise (CJK names)."""
    name = clean_text(customer.name or "", 80)
    if not name:
        return None
    return name.split(" ", 1)[0] if " " in name else name


def _src(table: str, row_id: object, workspace_id: str, customer_id: str | None = None) -> FactSource:
    return FactSource(table=table, row_id=str(row_id), workspace_id=workspace_id, customer_id=customer_id)


def profile_facts(customer: Customer, summary: PurchaseSummary | None, now: datetime) -> list[Fact]:
    ws, cid = customer.workspace_id, customer.external_id
    facts: list[Fact] = []
    name = first_name(customer)
    if name:
        facts.append(
            Fact(
                id="profile:first_name",
                kind=FactKind.PROFILE,
                text=f"First name: {name}",
                source=_src("customers", customer.id, ws, cid),
                score=1.0,
                required=True,
                untrusted=True,
            )
        )
    if summary is not None and summary.last_order_at is not None:
        days = int(_days(now, summary.last_order_at))
        since = f"customer since {_date(summary.first_order_at)}; " if summary.first_order_at else ""
        facts.append(
            Fact(
                id="profile:purchase_summary",
                kind=FactKind.PROFILE,
                text=f"Purchase history: {since}{summary.orders} orders; last order {days} days ago "
                f"({_date(summary.last_order_at)}); total spend {_money(summary.spend, summary.currency)}",
                values=FactValues(date=summary.last_order_at, price=summary.spend, currency=summary.currency),
                source=_src("orders", f"customer:{customer.id}", ws, cid),
                score=0.9,
            )
        )
    return facts


def attribute_facts(customer: Customer) -> list[Fact]:
    """Non-sensitive profile attributes (see ``sanitize.SENSITIVE_KEY_TERMS``), one fact each."""
    facts: list[Fact] = []
    for key in sorted(customer.attributes or {}):
        if is_sensitive_key(key):
            continue
        raw = customer.attributes[key]
        items: Iterable[Any] = raw if isinstance(raw, list) else [raw]
        shown = [v for v in (safe_scalar(i) for i in items) if v]
        if not shown:
            continue
        label = clean_text(key.replace("_", " "), 40)
        facts.append(
            Fact(
                id=f"profile:{clean_text(key, 60)}",
                kind=FactKind.PROFILE,
                text=f"{label}: {', '.join(shown[:8])}",
                source=_src("customers", customer.id, customer.workspace_id, customer.external_id),
                score=0.7 if "tier" in key.lower() else 0.5,
                untrusted=True,
            )
        )
    return facts


def _catalogue_entries(customer: Customer, skus: set[str]) -> dict[str, tuple[str, str | None]]:
    """Catalogue name and category of the bought skus, read in the session the customer was loaded in (an
    order line often carries only its sku; a draft then names the product as the catalogue does)."""
    session = object_session(customer)
    if session is None or not skus:
        return {}
    rows = session.execute(
        select(Product.sku, Product.name, Product.category).where(
            Product.workspace_id == customer.workspace_id, Product.sku.in_(sorted(skus))
        )
    )
    return {sku: (name, category) for sku, name, category in rows}


def purchase_facts(
    lines: list[PurchaseLine], top_skus: list[tuple[str, int]], customer: Customer, now: datetime
) -> list[Fact]:
    """Recent lines, scored by recency, with a bonus for what the customer buys again and again. Each names
    the product as the catalogue does when the order line has no name, and carries the catalogue category."""
    times = dict(top_skus)
    catalogue = _catalogue_entries(customer, {line.sku for line in lines[: MAX_PURCHASE_FACTS * 4]})
    facts: dict[str, Fact] = {}
    seen: set[str] = set()
    for line in lines:  # most recent first: keep the latest line of each sku
        if line.sku in seen or len(facts) >= MAX_PURCHASE_FACTS:
            continue
        seen.add(line.sku)
        fid = f"purchase:{line.order_external_id}:{line.sku}"
        known_name, category = catalogue.get(line.sku, (None, None))
        name = clean_text(line.name or known_name or line.sku, 120)
        category = clean_text(category, 60) if category else None
        again = times.get(line.sku, 1)
        kind = f" [{category}]" if category else ""
        text = (
            f"Bought {line.quantity} x {name}{kind} (sku {line.sku}) at {_money(line.unit_price, line.currency)} "
            f"on {_date(line.placed_at)}" + (f"; bought {again} times in all" if again > 1 else "")
        )
        score = 0.35 + 0.45 * _recency(now, line.placed_at, 120) + min(0.15, 0.03 * (again - 1))
        facts[fid] = Fact(
            id=fid,
            kind=FactKind.PURCHASE,
            text=text,
            values=FactValues(
                price=line.unit_price,
                currency=line.currency,
                date=line.placed_at,
                sku=line.sku,
                product_name=name,
                quantity=line.quantity,
                category=category,
            ),
            source=_src("orders", line.order_row_id, customer.workspace_id, customer.external_id),
            score=score,
        )
    return list(facts.values())


def event_facts(events: list[Event], customer: Customer, now: datetime) -> list[Fact]:
    facts: list[Fact] = []
    for ev in events:
        props = {k: v for k, v in (ev.properties or {}).items() if not is_sensitive_key(k)}
        shown = [f"{clean_text(k, 30)}: {clean_text(str(v), 80)}" for k, v in props.items() if safe_scalar(v)]
        detail = f" ({'; '.join(shown[:5])})" if shown else ""
        facts.append(
            Fact(
                id=f"event:{ev.id}",
                kind=FactKind.EVENT,
                text=f"{clean_text(ev.name, 80)} on {_date(ev.occurred_at)}{detail}",
                values=FactValues(date=ev.occurred_at, sku=str(props["sku"]) if "sku" in props else None),
                source=_src("events", ev.id, customer.workspace_id, customer.external_id),
                score=0.2 + 0.6 * _recency(now, ev.occurred_at, 30),
                untrusted=bool(_FREE_TEXT_KEYS & {k.lower() for k in props}),
            )
        )
    return facts


def contact_facts(contacts: list[ContactRecord], customer: Customer, now: datetime) -> list[Fact]:
    facts: list[Fact] = []
    for c in contacts:
        what = f": {clean_text(c.summary, 160)}" if c.summary else ""
        verb = "Sent" if c.kind == "sent" else "Suppressed"
        facts.append(
            Fact(
                id=f"contact:{c.id}",
                kind=FactKind.CONTACT,
                text=f"{verb} {c.channel} message on {_date(c.occurred_at)}{what}",
                values=FactValues(date=c.occurred_at),
                source=_src("contact_history", c.id, customer.workspace_id, customer.external_id),
                score=0.3 + 0.5 * _recency(now, c.occurred_at, 14),
            )
        )
    return facts


def product_fact(p: Product, score: float, *, required: bool = False) -> Fact:
    name = _clean_brand_text(p.name, 200)
    extra = f" [{_clean_brand_text(p.category, 60)}]" if p.category else ""
    desc = f": {_clean_brand_text(p.description, 200)}" if p.description else ""
    price = _money(p.price, p.currency) if p.price is not None else "no price"
    return Fact(
        id=f"product:{p.sku}",
        kind=FactKind.PRODUCT,
        text=f"{name}{extra} (sku {p.sku}), {price}{desc}",
        values=FactValues(
            price=p.price,
            currency=p.currency,
            sku=p.sku,
            product_name=name,
            url=p.url,
            category=_clean_brand_text(p.category, 60) if p.category else None,
        ),
        source=_src("products", p.id, p.workspace_id),
        score=score,
        required=required,
    )


def offer_is_live(offer: Offer, now: datetime) -> bool:
    if not offer.active:
        return False
    return (offer.valid_from is None or offer.valid_from <= now) and (offer.valid_to is None or now <= offer.valid_to)


def eligibility_profile(customer: Customer) -> dict[str, Any]:
    """What offer eligibility is matched against: the customer's attributes, plus the market they are in
    (``country``, also as ``market``) and ``locale`` from the profile unless an attribute says otherwise."""
    profile: dict[str, Any] = {"locale": customer.locale}
    if customer.country:
        profile |= {"country": customer.country, "market": customer.country}
    return profile | (customer.attributes or {})


def offer_is_eligible(offer: Offer, attributes: dict[str, Any]) -> bool:
    """Every eligibility key must match: the customer's value (or one of its values) is among those allowed."""
    for key, allowed in (offer.eligibility or {}).items():
        allowed_set = {str(a) for a in (allowed if isinstance(allowed, list) else [allowed])}
        have = attributes.get(key)
        have_set = {str(h) for h in (have if isinstance(have, list) else [have])} if have is not None else set()
        if not allowed_set & have_set:
            return False
    return True


def offer_fact(offer: Offer, score: float, *, required: bool = False) -> Fact:
    value = offer.discount_value
    pct = value if offer.discount_type == "percent" else None
    amount = value if offer.discount_type == "amount" else None
    if pct is not None:
        what = f"{pct.normalize():f}% off"
    elif amount is not None:
        what = f"{_money(amount, offer.currency)} off"
    else:
        what = "free shipping" if offer.discount_type == "free_shipping" else offer.discount_type
    parts = [f"Offer {offer.external_id}: {_clean_brand_text(offer.title, 200)} ({what})"]
    if offer.code:
        parts.append(f"code {offer.code}")
    if offer.valid_to:
        parts.append(f"valid until {_date(offer.valid_to)}")
    if offer.eligible_categories:
        parts.append("on " + ", ".join(offer.eligible_categories[:6]))
    if offer.eligible_skus:
        parts.append("for skus " + ", ".join(offer.eligible_skus[:6]))
    if offer.description:
        parts.append(_clean_brand_text(offer.description, 200))
    return Fact(
        id=f"offer:{offer.external_id}",
        kind=FactKind.OFFER,
        text="; ".join(parts),
        values=FactValues(
            discount_percent=pct,
            discount_amount=amount,
            currency=offer.currency,
            code=offer.code,
            valid_from=offer.valid_from,
            valid_to=offer.valid_to,
            discount_type=offer.discount_type,
            eligible_skus=tuple(offer.eligible_skus or ()),
            eligible_categories=tuple(offer.eligible_categories or ()),
            eligibility={
                str(k): tuple(str(a) for a in (v if isinstance(v, list) else [v]))
                for k, v in (offer.eligibility or {}).items()
            },
        ),
        source=_src("offers", offer.id, offer.workspace_id),
        score=score,
        required=required,
    )


def knowledge_fact(k: KnowledgeItem, score: float) -> Fact:
    return Fact(
        id=f"knowledge:{k.external_id}",
        kind=FactKind.KNOWLEDGE,
        text=f"{k.kind.capitalize()} - {_clean_brand_text(k.title, 120)}: {_clean_brand_text(k.text, 400)}",
        values=FactValues(category=k.kind),  # an "event" is what an invitation may announce
        source=_src("knowledge_items", k.id, k.workspace_id),
        score=score,
    )
