"""Claims a draft makes, read from its text: money, percentages and discount words, codes, benefits, stacking,
tiers, weekdays and end dates, the customer's own history. Each claim keeps its span so a check can bind it to
the product or offer it is about (``verify``) and name it in the evidence."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from copyloom.guardrails.claim_patterns import (
    BENEFITS,
    END_AFTER,
    END_BEFORE,
    HALF_PRICE,
    HISTORY,
    NOT_A_HISTORY,
    POSSESSIVE,
    STACKING,
    START_BEFORE,
    TIER_CLAIM,
    TIERS,
    WEEKDAY_CLAIM,
    WEEKDAYS,
    ZH_DIGITS,
    ZH_ZHE,
)
from copyloom.guardrails.extract import find_codes, find_dates, find_percents, find_prices


@dataclass(frozen=True, slots=True)
class Claim:
    kind: str  # price | percent | code | benefit | stacking | tier | weekday | end_date | history
    start: int
    end: int
    text: str
    value: Decimal | None = None  # price or percentage off
    label: str = ""  # benefit kind, tier key, weekday number
    qualifier: str = ""  # "lifetime", "30", "double": what a granting fact must state too
    currencies: frozenset[str] | None = None


def _latin_bounded(text: str, start: int, end: int) -> bool:
    """A Latin phrase must not begin or end inside a Latin word ("guaranteed" is not "guarantee")."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    head, tail = text[start], text[end - 1]
    return not (head.isascii() and head.isalpha() and before.isascii() and before.isalpha()) and not (
        tail.isascii() and tail.isalpha() and after.isascii() and after.isalpha()
    )


def _role(text: str, start: int, end: int) -> str:
    """Whether a date or weekday is stated as an end ("until Friday", "12月31日截止"), a start, or neither."""
    before = text[max(0, start - 24) : start]
    if END_BEFORE.search(before) or END_AFTER.match(text[end : end + 6]):
        return "end"
    if START_BEFORE.search(before):
        return "start"
    return ""


def _zh_percents(text: str) -> list[Claim]:
    out: list[Claim] = []
    for m in ZH_ZHE.finditer(text):
        tenths = ZH_DIGITS[m.group("a")] * 10 + (ZH_DIGITS[m.group("b")] if m.group("b") else 0)
        out.append(Claim("percent", m.start(), m.end(), m.group(0), Decimal(100 - tenths)))
    out += [Claim("percent", m.start(), m.end(), m.group(0), Decimal(50)) for m in HALF_PRICE.finditer(text)]
    return out


def _benefits(text: str) -> list[Claim]:
    out: list[Claim] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in BENEFITS.items():  # ordered: "shipping is free" is free shipping, not a free item
        for m in pattern.finditer(text):
            if m.end() == m.start() or not _latin_bounded(text, m.start(), m.end()):
                continue
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            groups = m.groupdict()
            qualifier = (groups.get("q") or groups.get("qz") or "").strip().lower()
            taken.append(m.span())
            out.append(Claim("benefit", m.start(), m.end(), m.group(0), label=kind, qualifier=qualifier))
    return out


def _tiers(text: str) -> list[Claim]:
    out: list[Claim] = []
    for m in TIER_CLAIM.finditer(text):
        said = (m.group("en") or m.group("en2") or m.group("zh") or m.group(0)).lower()
        key = next((k for k, words in TIERS.items() if any(w in said for w in words)), said)
        out.append(Claim("tier", m.start(), m.end(), m.group(0), label=key))
    return out


def _weekdays(text: str) -> list[Claim]:
    out: list[Claim] = []
    for m in WEEKDAY_CLAIM.finditer(text):
        name = (m.group("en") or m.group("zh") or "").lower().rstrip(".")
        if name not in WEEKDAYS:
            continue
        role = _role(text, m.start(), m.end())
        out.append(Claim("weekday", m.start(), m.end(), m.group(0), label=str(WEEKDAYS[name]), qualifier=role))
    return out


@lru_cache(maxsize=4096)
def extract_claims(text: str) -> tuple[Claim, ...]:
    """Every claim in one field's text, in the order they appear."""
    out: list[Claim] = [
        Claim("price", p.start, p.end, p.text, p.value, currencies=p.currencies) for p in find_prices(text)
    ]
    percents = [Claim("percent", p.start, p.end, p.text, p.value) for p in find_percents(text)]
    for z in _zh_percents(text):
        if not any(p.start < z.end and z.start < p.end for p in percents):
            percents.append(z)
    out += percents
    out += [Claim("code", c.start, c.end, c.text) for c in find_codes(text)]
    out += _benefits(text)
    out += [
        Claim("stacking", m.start(), m.end(), m.group(0))
        for m in STACKING.finditer(text)
        if _latin_bounded(text, m.start(), m.end())
    ]
    out += _tiers(text)
    out += _weekdays(text)
    out += [
        Claim("end_date", d.start, d.end, d.text, label=d.text)
        for d in find_dates(text)
        if _role(text, d.start, d.end) == "end"
    ]
    out += [
        Claim("history", m.start(), m.end(), m.group(0))
        for m in HISTORY.finditer(text)
        if not NOT_A_HISTORY.search(text[max(0, m.start() - 12) : m.start()])
    ]
    return tuple(sorted(out, key=lambda c: c.start))


def possessive_before(text: str, start: int) -> bool:
    """Whether "your" / "您的" comes right before ``start`` (a product the customer is said to own)."""
    return POSSESSIVE.search(text[max(0, start - 30) : start]) is not None
