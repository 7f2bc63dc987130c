"""What a bundle allows a draft to say: its prices, percentages, codes, dates, product names and links.

Built once per check context (``CheckContext.facts``, when the context is made) and read by every check of every
variant of that channel. What a brand fact's own text grants (its prices, percentages, codes, benefits) is the
same for every customer, so it is computed once per distinct text (``_text_grants``, a bounded LRU keyed by the
text, not by any object's identity).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from copyloom.contracts.facts import Fact, FactKind, FactsBundle
from copyloom.guardrails.claim_patterns import BENEFITS, TIERS
from copyloom.guardrails.extract import (
    find_codes,
    find_percents,
    find_prices,
    normalize_url,
    url_host,
)
from copyloom.guardrails.gate import resolve_zone

CUSTOMER_KINDS = frozenset({FactKind.PROFILE, FactKind.PURCHASE, FactKind.EVENT, FactKind.CONTACT, FactKind.NOTE})
# Only what the brand itself publishes grounds a code, price, percentage, link or benefit: a customer's note (or
# anything else a customer wrote) never does, whatever it says.
BRAND_KINDS = frozenset({FactKind.PRODUCT, FactKind.OFFER, FactKind.KNOWLEDGE})
_CENT = Decimal("0.01")
_SCOPE_STOP = frozenset(
    {"a", "an", "and", "or", "the", "all", "your", "our", "any", "every", "with", "for", "of", "on", "in", "at"}
    | {"to", "this", "these", "those", "new", "winter", "summer", "spring", "autumn", "fall", "holiday", "season"}
    | {"seasonal", "sale", "selected", "select", "items", "item", "products", "product", "orders", "order"}
)
_ALL_SCOPE = re.compile(
    r"\b(?:everything|sitewide|site-wide|storewide|store-wide|all orders|entire|any order)\b|全店|全场|全部|所有商品|全品类",
    re.I,
)
_TEXT_SCOPE = re.compile(
    r"(?:\d+(?:\.\d+)?\s?%|[$£€¥]\s?\d+(?:\.\d+)?)\s+off\s+(?P<scope>[A-Za-z][A-Za-z' -]{1,60}?)"
    r"(?=\s+(?:with|using|when|until|till|through|thru|by|code|at|for|before|ends?|from)\b|[,.;:!()]|$)",
    re.I,
)
# A brand fact that says something is free or given grants "it's free" and "a gift" in its own words.
_FREE = re.compile(r"\bfree\b|\bcomplimentary\b|\bgift|免费|赠", re.I)
_RENDERED_SCOPE = re.compile(r";\s*on ([^;]+)")
_RENDERED_SKUS = re.compile(r";\s*for skus ([^;]+)")


def stem(word: str) -> str:
    """A word's comparable form: lower case, plural 's' dropped ("Socks" and "sock" meet)."""
    w = word.lower()
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")


def content_words(text: str) -> frozenset[str]:
    """Comparable words of a name, category or scope: Latin words stemmed, Chinese runs whole ("外套", "茶具")."""
    latin = (stem(w) for w in re.findall(r"[A-Za-z]+", text) if w.lower() not in _SCOPE_STOP and len(w) > 2)
    return frozenset(latin) | frozenset(_CJK_RUN.findall(text))


@dataclass(frozen=True, slots=True)
class OfferWindow:
    fact_id: str
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class ProductRef:
    """A product the bundle names: the catalogue's (kind product) or the customer's own purchase."""

    fact_id: str
    kind: FactKind
    name: str
    sku: str | None
    price: Decimal | None
    currencies: frozenset[str] | None
    category: str | None

    @property
    def words(self) -> frozenset[str]:
        return content_words(f"{self.name} {self.category or ''}")


@dataclass(frozen=True, slots=True)
class OfferRef:
    """An offer and what it covers: structured skus/categories, else the scope its own text states ("20% off
    socks and layers"); neither means everything."""

    fact_id: str
    code: str | None
    percent: Decimal | None
    amount: Decimal | None
    discount_type: str | None
    skus: frozenset[str]
    categories: frozenset[str]  # stemmed words of the eligible categories, or of the scope the text states
    structured: bool
    start: datetime | None
    end: datetime | None
    eligibility: dict[str, tuple[str, ...]]
    text: str

    def covers(self, product: ProductRef) -> bool:
        if not self.skus and not self.categories:
            return True
        if product.sku is not None and product.sku.upper() in self.skus:
            return True
        return bool(self.categories & product.words)

    def live(self, when: datetime) -> bool:
        return (self.start is None or self.start <= when) and (self.end is None or when <= self.end)


@dataclass(frozen=True, slots=True)
class FactsIndex:
    """Values quoted by the bundle, each mapped to the fact that carries it."""

    zone: ZoneInfo
    prices: tuple[tuple[Decimal, frozenset[str] | None, str], ...]  # (value, currencies, fact id): brand-owned
    percents: dict[Decimal, str]
    codes: dict[str, str]
    dates: dict[date, str]
    windows: tuple[OfferWindow, ...]
    urls: dict[str, str]
    hosts: frozenset[str]
    product_names: dict[str, str]  # lower-cased name → fact id
    customer_fact_ids: frozenset[str]
    products: dict[str, tuple[ProductRef, ...]] = field(default_factory=dict)  # lower-cased name → refs
    offers: tuple[OfferRef, ...] = ()
    # kind → (fact id, the granting text) of every brand fact that grants it
    benefits: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    tiers: tuple[tuple[str, str], ...] = ()  # (tier key, profile fact id)
    tier_fact: str | None = None
    history_fact_ids: tuple[str, ...] = ()  # purchases and events
    event_skus: frozenset[str] = frozenset()  # products the customer viewed, carted, wished for
    # skus the customer bought: an order line may carry only its sku, and the draft names the product as the
    # catalogue does ("your Alpine Trekking Poles" for a purchase of TRP-01)
    purchase_skus: frozenset[str] = frozenset()
    brand_text: str = ""  # every brand-owned fact's text, lower case (knowledge, offers, products)

    def local_date(self, when: datetime) -> date:
        return when.astimezone(self.zone).date()


def _offer_ref(fact: Fact) -> OfferRef:
    v = fact.values
    skus = frozenset(s.upper() for s in v.eligible_skus)
    cats = frozenset(w for c in v.eligible_categories for w in content_words(c))
    structured = bool(skus or cats)
    if not structured:
        rendered = _RENDERED_SCOPE.search(fact.text)
        sku_text = _RENDERED_SKUS.search(fact.text)
        if sku_text:
            skus = frozenset(s.strip().upper() for s in sku_text.group(1).split(","))
            structured = True
        if rendered:
            cats = frozenset(w for c in rendered.group(1).split(",") for w in content_words(c))
            structured = True
        elif not _ALL_SCOPE.search(fact.text):
            scope = _TEXT_SCOPE.search(fact.text)
            if scope:
                cats = content_words(scope.group("scope"))
    pct = v.discount_percent
    dtype = v.discount_type or ("percent" if pct is not None else "amount" if v.discount_amount is not None else None)
    return OfferRef(
        fact.id,
        v.code.upper() if v.code else None,
        pct,
        v.discount_amount,
        dtype,
        skus,
        cats,
        structured,
        _aware(v.valid_from),
        _aware(v.valid_to),
        dict(v.eligibility),
        fact.text,
    )


@dataclass(frozen=True, slots=True)
class _TextGrants:
    prices: tuple[tuple[Decimal, frozenset[str] | None], ...]
    percents: tuple[Decimal, ...]
    codes: tuple[str, ...]  # upper case
    benefits: tuple[str, ...]  # kinds, in BENEFITS' order


@lru_cache(maxsize=4096)
def _text_grants(text: str) -> _TextGrants:
    """What a brand fact's text writes out: the same for every customer's bundle that holds the fact."""
    return _TextGrants(
        prices=tuple((p.value, p.currencies) for p in find_prices(text)),
        percents=tuple(pc.value for pc in find_percents(text)),
        codes=tuple(c.text.upper() for c in find_codes(text)),
        benefits=tuple(
            kind
            for kind, pattern in BENEFITS.items()
            if pattern.search(text) or (kind in ("free_item", "gift") and _FREE.search(_unshipped(text)))
        ),
    )


def build_facts_index(bundle: FactsBundle) -> FactsIndex:
    """The index of ``bundle``: callers keep it (``CheckContext.facts``) rather than building it per check."""
    zone = resolve_zone(bundle.customer.time_zone) or ZoneInfo("UTC")
    prices: list[tuple[Decimal, frozenset[str] | None, str]] = []
    percents: dict[Decimal, str] = {}
    codes: dict[str, str] = {}
    dates: dict[date, str] = {}
    windows: list[OfferWindow] = []
    urls: dict[str, str] = {}
    names: dict[str, str] = {}
    products: dict[str, list[ProductRef]] = {}
    offers: list[OfferRef] = []
    benefits: dict[str, list[tuple[str, str]]] = {}
    tiers: list[tuple[str, str]] = []
    tier_fact: str | None = None
    history: list[str] = []
    brand_texts: list[str] = []
    for fact in bundle.facts:
        v = fact.values
        owned = fact.kind in BRAND_KINDS and not fact.untrusted
        cur = frozenset({v.currency.upper()}) if v.currency else None
        if owned:
            brand_texts.append(fact.text.lower())
            for amount in (v.price, v.discount_amount):
                if amount is not None:
                    prices.append((amount, cur, fact.id))
            if v.discount_percent is not None:
                percents[v.discount_percent] = fact.id
            if v.code:
                codes[v.code.upper()] = fact.id
            if v.url:
                urls[normalize_url(v.url)] = fact.id
            # Values written out in a brand fact's text (knowledge, offer terms) are grounded too.
            grants = _text_grants(fact.text)
            for value, currencies in grants.prices:
                prices.append((value, currencies or cur, fact.id))
            for pct in grants.percents:
                percents.setdefault(pct, fact.id)
            for code in grants.codes:
                codes.setdefault(code, fact.id)
            for kind in grants.benefits:
                benefits.setdefault(kind, []).append((fact.id, fact.text))
            if v.discount_type == "free_shipping":
                benefits.setdefault("free_shipping", []).append((fact.id, fact.text))
        if fact.kind is FactKind.OFFER and owned:
            offers.append(_offer_ref(fact))
        if v.sku and fact.kind in (FactKind.PRODUCT, FactKind.PURCHASE, FactKind.EVENT):
            codes.setdefault(v.sku.upper(), fact.id)
        if fact.kind is not FactKind.NOTE:
            for moment in (v.valid_from, v.valid_to, v.date):
                if moment is not None:
                    aware = _aware(moment)
                    assert aware is not None
                    dates.setdefault(aware.astimezone(zone).date(), fact.id)
                    dates.setdefault(aware.astimezone(UTC).date(), fact.id)
        if (v.valid_from is not None or v.valid_to is not None) and owned:
            windows.append(OfferWindow(fact.id, _aware(v.valid_from), _aware(v.valid_to)))
        if v.product_name and fact.kind in (FactKind.PRODUCT, FactKind.PURCHASE):
            names[v.product_name.strip().lower()] = fact.id
            category = v.category or _bracket_category(fact.text)
            ref = ProductRef(fact.id, fact.kind, v.product_name.strip(), v.sku, v.price, cur, category)
            products.setdefault(" ".join(ref.name.lower().split()), []).append(ref)
        if fact.kind in (FactKind.PURCHASE, FactKind.EVENT):
            history.append(fact.id)
        if fact.kind is FactKind.PROFILE:
            low = fact.text.lower()
            if re.search(r"tier|level|status|membership|会员等级|等级|会员级别", low):
                tier_fact = tier_fact or fact.id
            for key, words in TIERS.items():
                if any(w in low for w in words):
                    tiers.append((key, fact.id))
    # A sale price derived from a listed price and an offer's percentage is the same fact, computed.
    # So is the saving ("save $31.99"), and a price less an offer's amount ("到手349元" with 50元 off).
    live_pcts = [pct for pct in percents if 0 < pct < 100]
    amounts = [(o.amount, o.fact_id) for o in offers if o.amount is not None]
    for amount, cur, fid in list(prices):
        if not fid.startswith(("product:", "purchase:")):
            continue  # thresholds and offer amounts are no price to take a discount off
        for pct in live_pcts:
            sale = (amount * (100 - pct) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
            prices.append((sale, cur, fid))
            prices.append(((amount * pct / 100).quantize(_CENT, rounding=ROUND_HALF_UP), cur, fid))
        prices += [(amount - off, cur, fid) for off, _ in amounts if off < amount]
    for token in re.findall(r"[A-Za-z0-9-]+", bundle.brand.name):
        codes.setdefault(token.upper(), "brand")
    return FactsIndex(
        zone=zone,
        prices=tuple(prices),
        percents=percents,
        codes=codes,
        dates=dates,
        windows=tuple(windows),
        urls=urls,
        hosts=frozenset(url_host(u) for u in urls),
        product_names=names,
        customer_fact_ids=frozenset(f.id for f in bundle.facts if f.kind in CUSTOMER_KINDS),
        products={k: tuple(v) for k, v in products.items()},
        offers=tuple(offers),
        benefits={k: tuple(v) for k, v in benefits.items()},
        tiers=tuple(tiers),
        tier_fact=tier_fact if tier_fact or not tiers else tiers[0][1],
        history_fact_ids=tuple(history),
        event_skus=frozenset(
            f.values.sku.upper() for f in bundle.facts if f.kind is FactKind.EVENT and f.values.sku is not None
        ),
        purchase_skus=frozenset(
            f.values.sku.upper() for f in bundle.facts if f.kind is FactKind.PURCHASE and f.values.sku is not None
        ),
        brand_text="\n".join(brand_texts),
    )


def _unshipped(text: str) -> str:
    """A fact's text without its free shipping and free returns: "free delivery" grants no free gift."""
    for kind in ("free_shipping", "free_returns"):
        text = BENEFITS[kind].sub(" ", text)
    return text


def _bracket_category(text: str) -> str | None:
    """The category a rendered product or purchase fact writes in brackets ("Name [Category] (sku …)")."""
    m = re.search(r"\[([^\]]{1,60})\]", text)
    return m.group(1) if m else None


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
