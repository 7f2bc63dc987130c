"""Choosing and formatting the facts one offline variant quotes.

Values are formatted deterministically from ``FactValues`` (prices with two decimals and the currency symbol,
percentages without trailing zeros, dates as ISO ``YYYY-MM-DD``) so that the grounding check can match them.
Customer-written facts (``untrusted``) are never quoted.

What may stand together in one variant (the copy must be simply true):
- an offer with a product or a purchase only when the offer covers it (its eligible skus or categories; an offer
  with neither covers everything). A restricted offer with nothing it covers in the variant is named by its own
  title, or left out;
- a purchase with a product as a pair ("often bought with your …") only with a pairing fact that says why;
- an event invitation only from an event fact (brand knowledge of kind ``event``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from copyloom.contracts.facts import Fact, FactKind, FactsBundle
from copyloom.genai.offline.brief import Directives, Register

__all__ = [
    "Picked",
    "copy_context",
    "covers",
    "event_facts",
    "format_date",
    "format_money",
    "format_percent",
    "pick_facts",
    "quoted",
]

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "RMB": "¥", "JPY": "¥"}
_DIGIT = re.compile(r"\d")
_CJK = re.compile(r"[\u3400-\u9fff]")


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


def covers(offer: Fact, product: Fact) -> bool:
    """Whether ``offer`` applies to ``product`` (a product or purchase fact)."""
    o, p = offer.values, product.values
    if not o.eligible_skus and not o.eligible_categories:
        return True
    if p.sku and p.sku in o.eligible_skus:
        return True
    cats = {c.strip().casefold() for c in o.eligible_categories}
    return bool(p.category) and p.category is not None and p.category.strip().casefold() in cats


def restricted(offer: Fact) -> bool:
    return bool(offer.values.eligible_skus or offer.values.eligible_categories)


def event_facts(bundle: FactsBundle, locale: str | None = None) -> list[Fact]:
    """Events the brand announces (knowledge of kind ``event``), written in the copy's script: the only ground
    for an invitation (it is quoted as the brand wrote it, never translated)."""
    zh = (locale or bundle.locale).lower().startswith("zh")
    return [
        f
        for f in bundle.facts
        if f.kind is FactKind.KNOWLEDGE
        and f.values.category == "event"
        and not f.untrusted
        and f.text
        and bool(_CJK.search(f.text)) == zh
    ]


@dataclass(frozen=True)
class Picked:
    """The facts one variant may quote (each at most once)."""

    offer: Fact | None = None
    product: Fact | None = None
    purchase: Fact | None = None
    event: Fact | None = None
    profile: Fact | None = None
    pairing: Fact | None = None

    def facts(self) -> list[Fact]:
        return [f for f in (self.offer, self.product, self.purchase, self.event, self.pairing) if f is not None]


def _offer_usable(f: Fact) -> bool:
    v = f.values
    return bool(v.code or v.discount_percent is not None or v.discount_amount is not None or _offer_text(f))


def _offer_text(f: Fact) -> str | None:
    # Without structured values the offer is only quoted when its text has no numbers (which could not be checked).
    text = f.text.strip().rstrip(".")
    return text if text and not _DIGIT.search(text) and len(text) <= 80 else None


def _ranked(facts: list[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda f: (not f.required, -f.score, f.id))


def candidates(bundle: FactsBundle, excluded: set[str], locale: str | None = None) -> dict[str, list[Fact]]:
    usable = [f for f in bundle.facts if not f.untrusted and f.id not in excluded]
    personal = bundle.personalization_allowed
    return {
        "offer": _ranked([f for f in usable if f.kind is FactKind.OFFER and _offer_usable(f)]),
        "product": _ranked([f for f in usable if f.kind is FactKind.PRODUCT and f.values.product_name]),
        "purchase": _ranked([f for f in usable if personal and f.kind is FactKind.PURCHASE and f.values.product_name]),
        "event": _ranked([f for f in event_facts(bundle, locale) if f.id not in excluded]),
        "pairing": _ranked([f for f in usable if personal and f.kind is FactKind.PAIRING]),
        "profile": [f for f in usable if personal and f.kind is FactKind.PROFILE],
    }


def _nth(pool: list[Fact], index: int) -> Fact | None:
    return pool[index % len(pool)] if pool else None


def pick_facts(
    bundle: FactsBundle,
    index: int,
    excluded: set[str],
    *,
    goal: str,
    directives: Directives | None = None,
    only: set[str] | None = None,
    locale: str | None = None,
) -> Picked:
    """Variant ``index`` rotates through the bundle's offers, products, purchases and pairings.

    ``only`` restricts the choice to those fact ids (a refine keeps its parent's facts).
    """
    d = directives or Directives()
    pools = candidates(bundle, excluded, locale)
    if only is not None:
        pools = {k: [f for f in v if f.id in only] for k, v in pools.items()}
    zh = (locale or bundle.locale).lower().startswith("zh")
    # Offers and products the brief names are the point of the message: every variant features one of them.
    for key in ("offer", "product"):
        required = [f for f in pools[key] if f.required or f.id in d.named]
        if required:
            pools[key] = required
    # English copy names no product in Chinese when there are others (the relevance check flags it; Latin names in
    # Chinese copy are common and pass), after the brief's own choice; a purchase keeps its name: it was bought.
    if not zh:
        pools["product"] = [f for f in pools["product"] if not _CJK.search(f.values.product_name or "")] or pools[
            "product"
        ]
    if d.no_offers:
        pools["offer"] = [f for f in pools["offer"] if f.required or f.id in d.named]
    products = {f.values.sku: f for f in pools["product"] if f.values.sku}
    purchases = {f.values.sku: f for f in pools["purchase"] if f.values.sku}
    named_products = any(f.required or f.id in d.named for f in pools["product"])

    # A pair is only shown with its reason, and only when both of its products are in the bundle.
    pairs = [p for p in pools["pairing"] if p.values.related_sku in purchases and p.values.sku in products]
    if named_products:
        pairs = [p for p in pairs if p.values.sku in {f.values.sku for f in pools["product"]}]
    pairs.sort(key=lambda p: bool(_CJK.search(products[p.values.sku or ""].values.product_name or "")) != zh)
    pairing = _nth(pairs, index) if goal != "replenish" else None
    if pairing is not None:
        purchase: Fact | None = purchases[pairing.values.related_sku or ""]
        product: Fact | None = products[pairing.values.sku or ""]
    else:
        purchase = _nth(pools["purchase"], index)
        others = [p for p in pools["product"] if not purchase or p.values.sku != purchase.values.sku]
        if goal == "replenish" and not named_products:
            others = []  # "time to restock" is only said of what the customer bought: the purchase itself
        product = _nth(others, index)
        if goal == "cross_sell" and purchase is not None and product is not None:
            purchase = None  # no reason to pair them: the cross-sell shows the product on its own

    offer = _pick_offer(pools["offer"], index, product, purchase, pairing is not None, d.named)
    if offer is not None and restricted(offer):
        must = offer.required or offer.id in d.named
        if purchase is not None and not covers(offer, purchase) and goal == "replenish" and not must:
            offer = None  # a restock reminder is about the purchase: an offer that does not cover it gives way
        elif purchase is not None and not covers(offer, purchase):
            purchase, pairing = None, None  # never an offer next to a bought product it does not cover
    if offer is not None and restricted(offer):
        must = offer.required or offer.id in d.named
        if product is not None and not covers(offer, product):
            covered = [p for p in pools["product"] if covers(offer, p)]
            if covered and not named_products:
                product, pairing = _nth(covered, index), None
            elif must:
                product, pairing = None, None  # the brief's offer, alone, named by its own title
            else:
                offer = None  # the product stays; an offer that does not cover it does not
    if offer is not None and restricted(offer) and product is None and purchase is None:
        # an offer for some products is shown with one of them (else named by its own title, where it can be)
        product = _nth([p for p in pools["product"] if covers(offer, p)], index)
    profile = pools["profile"][0] if pools["profile"] else None
    return Picked(offer, product, purchase, _nth(pools["event"], index), profile, pairing)


def _pick_offer(
    offers: list[Fact],
    index: int,
    product: Fact | None,
    purchase: Fact | None,
    paired: bool,
    named: frozenset[str] = frozenset(),
) -> Fact | None:
    """The variant's offer: the nth, unless another offer covers everything the variant shows and it does not.
    An offer the request requires or the brief names is kept: the products it does not cover give way."""
    if not offers:
        return None
    chosen = offers[index % len(offers)]
    shown = [f for f in (product, purchase if paired else None) if f is not None]
    if all(covers(chosen, f) for f in shown) or chosen.required or chosen.id in named:
        return chosen
    fitting = [o for o in offers if all(covers(o, f) for f in shown)]
    return fitting[index % len(fitting)] if fitting else None  # the variant's products stay, without an offer


def spaced(name: str | None) -> str | None:
    """A Latin name set off by spaces inside Chinese copy (a CJK name needs none)."""
    if not name:
        return name
    return name if _CJK.search(name[0]) and _CJK.search(name[-1]) else f" {name} "


def copy_context(
    brand_name: str,
    picked: Picked,
    *,
    first_name: str | None,
    register: Register,
    locale: str,
    prices_on_offers: bool = True,
) -> dict[str, Any]:
    """The ``c`` variable of the offline copy templates. ``prices_on_offers``: an offer line that names the product
    it is on also gives its price (off for SMS, whose two segments cannot hold both)."""
    ctx: dict[str, Any] = {
        "brand": brand_name,
        "name": first_name,
        "formal": register == "formal",
        "casual": register == "casual",
        "personal": first_name is not None,
        "offer": None,
        "product": None,
        "purchase": None,
        "event": None,
        "pairing": None,
    }
    if picked.product:
        v = picked.product.values
        price = format_money(v.price, v.currency) if v.price is not None else None
        ctx["product"] = {"name": v.product_name, "zh": spaced(v.product_name), "price": price}
    if picked.purchase:
        name = picked.purchase.values.product_name
        ctx["purchase"] = {"name": name, "zh": spaced(name)}
    if picked.pairing and picked.product and picked.purchase:
        method = "co_purchase" if picked.pairing.source.table == "orders" else "category"
        category = picked.product.values.category
        ctx["pairing"] = {"method": method, "category": category}
    if picked.offer:
        ctx["offer"] = _offer_context(picked, locale)
        _name_each_product_once(ctx, prices_on_offers)
    if picked.event:
        ctx["event"] = {"text": _event_text(picked.event)}
    return ctx


def _offer_context(picked: Picked, locale: str) -> dict[str, Any] | None:
    assert picked.offer is not None
    offer = picked.offer
    v = offer.values
    discount = None
    if v.discount_percent is not None:
        discount = format_percent(v.discount_percent)
    elif v.discount_amount is not None:
        discount = format_money(v.discount_amount, v.currency)
    on = None
    scope = None
    if restricted(offer):
        if picked.product is not None and covers(offer, picked.product):
            on = picked.product.values.product_name
        elif picked.purchase is not None and covers(offer, picked.purchase):
            on = picked.purchase.values.product_name
        else:
            scope = _offer_title(offer, locale)
            if scope is None:
                return None  # it covers something, and we cannot say what in this language: leave it out
    return {
        "code": v.code,
        "discount": discount,
        "until": format_date(v.valid_to) if v.valid_to else None,
        "text": _offer_text(offer),
        "on": on,
        "on_zh": spaced(on),
        "scope": scope,
    }


def _name_each_product_once(ctx: dict[str, Any], with_price: bool) -> None:
    """An offer line that names the product it is on ("20% off the Ridgeline 2P Tent") takes the place of the line
    that would name that product again (its price line, or the pairing and thanks that name a purchase), and
    carries the product's price (``with_price``): one message names each product once."""
    offer = ctx["offer"]
    if not offer or not offer["on"]:
        return
    for slot in ("product", "purchase"):
        shown = ctx[slot]
        if shown and shown["name"] == offer["on"]:
            if with_price and shown.get("price"):
                offer["on"] = f"{shown['name']} ({shown['price']})"
                offer["on_zh"] = spaced(offer["on"])
            offer["names"] = shown["name"]
            ctx[slot] = None
            ctx["pairing"] = None  # a pairing line names both products


def _offer_title(offer: Fact, locale: str) -> str | None:
    """The offer's title as the brand wrote it (``Offer ID: title (…)`` in the fact text), in the copy's script."""
    match = re.match(r"Offer [^:]+: (.+?) \(", offer.text)
    if not match:
        return None
    title = match.group(1).strip()
    zh = locale.lower().startswith("zh")
    return title if bool(_CJK.search(title)) == zh else None


def _event_text(event: Fact) -> str:
    # knowledge facts read "Event - <title>: <text>"; the invitation quotes the brand's own title and text
    text = event.text.strip()
    return text.split(" - ", 1)[1] if text.lower().startswith("event - ") else text


def quoted(fact: Fact, ctx: dict[str, Any]) -> list[str]:
    """The exact strings by which ``fact`` may appear in a variant (to decide whether it is cited)."""
    if fact.kind is FactKind.OFFER and ctx.get("offer"):
        o = ctx["offer"]
        return [s for s in (o["code"], o["discount"], o["until"], o["text"], o["scope"]) if s]
    if fact.kind in (FactKind.PRODUCT, FactKind.PURCHASE):
        shown = ctx.get("product" if fact.kind is FactKind.PRODUCT else "purchase")
        if shown:
            return [shown["name"]]
        named = (ctx.get("offer") or {}).get("names")
        return [named] if named and named == fact.values.product_name else []  # named by the offer line only
    if fact.kind is FactKind.KNOWLEDGE and ctx.get("event"):
        return [ctx["event"]["text"]]
    return []
