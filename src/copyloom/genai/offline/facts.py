"""Choosing and formatting the facts one offline variant quotes.

Values are formatted deterministically from ``FactValues`` (prices with two decimals and the currency symbol,
percentages without trailing zeros, dates as ISO ``YYYY-MM-DD``) so that the grounding check can match them.
Customer-written facts (``untrusted``) are never quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from copyloom.domain.brand import BrandKitSpec
from copyloom.retrieval.facts import Fact, FactKind, FactsBundle

__all__ = ["Picked", "copy_context", "format_date", "format_money", "format_percent", "pick_facts", "quoted"]

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "RMB": "¥", "JPY": "¥"}
_DIGIT = re.compile(r"\d")


def format_money(amount: Decimal, currency: str | None) -> str:
    cur = (currency or "").upper()
    text = f"{amount:.0f}" if cur == "JPY" else f"{amount:.2f}"
    if cur in _SYMBOLS:
        return f"{_SYMBOLS[cur]}{text}"
    return f"{text} {cur}".strip()


def format_percent(value: Decimal) -> str:
    normalized = value.normalize()
    text = f"{normalized:f}" if normalized != normalized.to_integral() else f"{normalized.to_integral():f}"
    return f"{text}%"


def format_date(value: datetime) -> str:
    return value.date().isoformat()


@dataclass(frozen=True)
class Picked:
    """The facts one variant may quote (each at most once)."""

    offer: Fact | None = None
    product: Fact | None = None
    purchase: Fact | None = None
    event: Fact | None = None
    profile: Fact | None = None

    def facts(self) -> list[Fact]:
        return [f for f in (self.offer, self.product, self.purchase, self.event) if f is not None]


def _offer_usable(f: Fact) -> bool:
    v = f.values
    return bool(v.code or v.discount_percent is not None or v.discount_amount is not None or _offer_text(f))


def _offer_text(f: Fact) -> str | None:
    # Without structured values the offer is only quoted when its text has no numbers (which could not be checked).
    text = f.text.strip().rstrip(".")
    return text if text and not _DIGIT.search(text) and len(text) <= 80 else None


def _ranked(facts: list[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda f: (not f.required, -f.score, f.id))


def candidates(bundle: FactsBundle, excluded: set[str]) -> dict[str, list[Fact]]:
    usable = [f for f in bundle.facts if not f.untrusted and f.id not in excluded]
    personal = bundle.personalization_allowed
    return {
        "offer": _ranked([f for f in usable if f.kind is FactKind.OFFER and _offer_usable(f)]),
        "product": _ranked([f for f in usable if f.kind is FactKind.PRODUCT and f.values.product_name]),
        "purchase": _ranked([f for f in usable if personal and f.kind is FactKind.PURCHASE and f.values.product_name]),
        "event": _ranked([f for f in usable if f.kind is FactKind.KNOWLEDGE and f.values.date and f.text]),
        "profile": [f for f in usable if personal and f.kind is FactKind.PROFILE],
    }


def pick_facts(bundle: FactsBundle, index: int, excluded: set[str], only: set[str] | None = None) -> Picked:
    """Variant ``index`` rotates through the bundle's offers, products and purchases (distinct facts per variant).

    ``only`` restricts the choice to those fact ids (a refine keeps its parent's facts).
    """
    pools = candidates(bundle, excluded)
    if only is not None:
        pools = {k: [f for f in v if f.id in only] for k, v in pools.items()}
    # Offers and products the brief names are the point of the message: every variant features one of them.
    for key in ("offer", "product"):
        required = [f for f in pools[key] if f.required]
        if required:
            pools[key] = required

    def nth(name: str) -> Fact | None:
        pool = pools[name]
        return pool[index % len(pool)] if pool else None

    # A purchased product is not also offered as "the product" of the same variant.
    purchase = nth("purchase")
    products = [p for p in pools["product"] if not purchase or p.values.sku != purchase.values.sku]
    product = products[index % len(products)] if products else None
    profile = pools["profile"][0] if pools["profile"] else None
    return Picked(nth("offer"), product, purchase, nth("event"), profile)


def copy_context(
    bundle: BrandKitSpec,
    picked: Picked,
    *,
    first_name: str | None,
    formal: bool,
    casual: bool,
) -> dict[str, Any]:
    """The ``c`` variable of the offline copy templates."""
    ctx: dict[str, Any] = {
        "brand": bundle.name,
        "name": first_name,
        "formal": formal,
        "casual": casual,
        "personal": first_name is not None,
        "offer": None,
        "product": None,
        "purchase": None,
        "event": None,
    }
    if picked.offer:
        v = picked.offer.values
        discount = None
        if v.discount_percent is not None:
            discount = format_percent(v.discount_percent)
        elif v.discount_amount is not None:
            discount = format_money(v.discount_amount, v.currency)
        ctx["offer"] = {
            "code": v.code,
            "discount": discount,
            "until": format_date(v.valid_to) if v.valid_to else None,
            "text": _offer_text(picked.offer),
        }
    if picked.product:
        v = picked.product.values
        price = format_money(v.price, v.currency) if v.price is not None else None
        ctx["product"] = {"name": v.product_name, "price": price}
    if picked.purchase:
        ctx["purchase"] = {"name": picked.purchase.values.product_name}
    if picked.event:
        v = picked.event.values
        ctx["event"] = {"text": picked.event.text.strip(), "date": format_date(v.date) if v.date else None}
    return ctx


def quoted(fact: Fact, ctx: dict[str, Any]) -> list[str]:
    """The exact strings by which ``fact`` may appear in a variant (to decide whether it is cited)."""
    for key in ("offer", "product", "purchase", "event"):
        block = ctx.get(key)
        if block is None:
            continue
        if key == "offer" and fact.kind is FactKind.OFFER:
            return [s for s in (block["code"], block["discount"], block["until"], block["text"]) if s]
        if key == "product" and fact.kind is FactKind.PRODUCT:
            return [block["name"]]
        if key == "purchase" and fact.kind is FactKind.PURCHASE:
            return [block["name"]]
        if key == "event" and fact.kind is FactKind.KNOWLEDGE:
            return [block["text"]]
    return []
