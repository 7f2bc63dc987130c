"""What a bundle allows a draft to say: its prices, percentages, codes, dates, product names and links.

Built once per bundle (cached by identity) because every check of one draft reads the same bundle.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from copyloom.guardrails.extract import (
    find_codes,
    find_percents,
    find_prices,
    normalize_url,
    url_host,
)
from copyloom.guardrails.gate import resolve_zone
from copyloom.retrieval.facts import FactKind, FactsBundle

CUSTOMER_KINDS = frozenset({FactKind.PROFILE, FactKind.PURCHASE, FactKind.EVENT, FactKind.CONTACT, FactKind.NOTE})
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class OfferWindow:
    fact_id: str
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class FactsIndex:
    """Values quoted by the bundle, each mapped to the fact that carries it."""

    zone: ZoneInfo
    prices: tuple[tuple[Decimal, frozenset[str] | None, str], ...]  # (value, currencies, fact id)
    percents: dict[Decimal, str]
    codes: dict[str, str]
    dates: dict[date, str]
    windows: tuple[OfferWindow, ...]
    urls: dict[str, str]
    hosts: frozenset[str]
    product_names: dict[str, str]  # lower-cased name → fact id
    customer_fact_ids: frozenset[str]

    def local_date(self, when: datetime) -> date:
        return when.astimezone(self.zone).date()


def _build(bundle: FactsBundle) -> FactsIndex:
    zone = resolve_zone(bundle.customer.time_zone) or ZoneInfo("UTC")
    prices: list[tuple[Decimal, frozenset[str] | None, str]] = []
    percents: dict[Decimal, str] = {}
    codes: dict[str, str] = {}
    dates: dict[date, str] = {}
    windows: list[OfferWindow] = []
    urls: dict[str, str] = {}
    names: dict[str, str] = {}
    for fact in bundle.facts:
        v = fact.values
        cur = frozenset({v.currency.upper()}) if v.currency else None
        for amount in (v.price, v.discount_amount):
            if amount is not None:
                prices.append((amount, cur, fact.id))
        if v.discount_percent is not None:
            percents[v.discount_percent] = fact.id
        for token in (v.code, v.sku):
            if token:
                codes[token.upper()] = fact.id
        for moment in (v.valid_from, v.valid_to, v.date):
            if moment is not None:
                aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
                dates.setdefault(aware.astimezone(zone).date(), fact.id)
                dates.setdefault(aware.astimezone(UTC).date(), fact.id)
        if v.valid_from is not None or v.valid_to is not None:
            windows.append(OfferWindow(fact.id, _aware(v.valid_from), _aware(v.valid_to)))
        if v.url:
            urls[normalize_url(v.url)] = fact.id
        if v.product_name:
            names[v.product_name.strip().lower()] = fact.id
        # Values written out in a fact's text (knowledge, offer terms) are grounded too.
        for text in (fact.text, v.product_name or ""):
            for p in find_prices(text):
                prices.append((p.value, p.currencies or cur, fact.id))
            for pc in find_percents(text):
                percents.setdefault(pc.value, fact.id)
            for c in find_codes(text):
                codes.setdefault(c.text.upper(), fact.id)
    # A sale price derived from a listed price and an offer's percentage is the same fact, computed.
    offers = [(pct, fid) for pct, fid in percents.items() if 0 < pct < 100]
    for amount, cur, fid in list(prices):
        for pct, _ in offers:
            sale = (amount * (100 - pct) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
            prices.append((sale, cur, fid))
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
    )


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_CACHE: OrderedDict[int, tuple[FactsBundle, FactsIndex]] = OrderedDict()
_CACHE_SIZE = 64


def facts_index(bundle: FactsBundle) -> FactsIndex:
    """The index of ``bundle``; the cache holds the bundle itself so an id is never reused while cached."""
    key = id(bundle)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is bundle:
        _CACHE.move_to_end(key)
        return hit[1]
    index = _build(bundle)
    _CACHE[key] = (bundle, index)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return index
