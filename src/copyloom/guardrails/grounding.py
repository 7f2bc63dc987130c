"""Grounding: every price, percentage, code, date, product name and link in a draft must come from its bundle.

Also checks that cited fact ids exist and that time claims ("tonight only", "今晚") hold at the send time.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from functools import lru_cache

from copyloom.contracts.facts import FactKind
from copyloom.contracts.text import copy_fields
from copyloom.contracts.variants import Variant
from copyloom.guardrails.claims import extract_claims
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.extract import (
    TODAY_CLAIMS,
    TOMORROW_CLAIMS,
    find_dates,
    find_remaining,
    find_urls,
    mention_dates,
    normalize_url,
    url_host,
)
from copyloom.guardrails.facts_index import FactsIndex, stem
from copyloom.guardrails.products import Mention, product_mentions
from copyloom.guardrails.results import passed, result
from copyloom.guardrails.types import CheckResult, Evidence, Verdict
from copyloom.guardrails.verify import extended_names, named_offers, unknown_names, verify_claims

NAME = "grounding"
FLAG_ONLY = frozenset({"unknown_name"})  # evidence that asks a reviewer to look, without blocking


def _ev(field: str, start: int, end: int, text: str, code: str, expected: str, fact_id: str | None = None) -> Evidence:
    return Evidence(field=field, start=start, end=end, text=text, reason_code=code, expected=expected, fact_id=fact_id)


def _money(idx: FactsIndex, field: str, text: str, names: list[tuple[int, int]]) -> list[Evidence]:
    """Percentages and codes no brand fact carries (prices are verified against their product in ``verify``);
    words inside a product's name are that name's ("100% Cotton Tee")."""
    out: list[Evidence] = []
    for claim in extract_claims(text):
        if any(a <= claim.start and claim.end <= b for a, b in names):
            continue
        if claim.kind == "percent" and claim.value not in idx.percents:
            known = ", ".join(f"{v.normalize():f}%" for v in idx.percents) or "none"
            out.append(
                _ev(field, claim.start, claim.end, claim.text, "percent_not_in_facts", f"percentages in facts: {known}")
            )
        elif claim.kind == "code" and claim.text.upper() not in idx.codes:
            known = ", ".join(k for k, fid in idx.codes.items() if fid.startswith("offer")) or "none"
            out.append(_ev(field, claim.start, claim.end, claim.text, "code_not_in_facts", f"codes in facts: {known}"))
    return out


def _date_ok(idx: FactsIndex, day: date, send_day: date) -> str | None:
    """None when grounded, else the reason code."""
    if day in idx.dates and not any(w.fact_id == idx.dates[day] for w in idx.windows):
        return None  # a purchase or event date: the past is fine
    inside = [
        w
        for w in idx.windows
        if (w.start is None or idx.local_date(w.start) <= day) and (w.end is None or day <= idx.local_date(w.end))
    ]
    if not inside and day not in idx.dates:
        return "date_not_in_facts"
    return "date_in_past" if day < send_day else None


def _dates(idx: FactsIndex, ctx: CheckContext, field: str, text: str) -> list[Evidence]:
    out: list[Evidence] = []
    send_day = idx.local_date(ctx.send_at)
    for m in find_dates(text):
        reasons = [_date_ok(idx, d, send_day) for d in mention_dates(m, send_day)]
        if reasons and None not in reasons:
            code = "date_in_past" if "date_in_past" in reasons else "date_not_in_facts"
            windows = "; ".join(
                f"{w.fact_id}: {w.start and idx.local_date(w.start)}..{w.end and idx.local_date(w.end)}"
                for w in idx.windows
            )
            out.append(_ev(field, m.start, m.end, m.text, code, f"send {send_day}; offer windows {windows or 'none'}"))
    for pattern, offset in ((TODAY_CLAIMS, 0), (TOMORROW_CLAIMS, 1)):
        for claim in pattern.finditer(text):
            target = send_day + timedelta(days=offset)
            hit = next(
                (
                    w
                    for w in idx.windows
                    if w.end is not None and w.end >= ctx.send_at and idx.local_date(w.end) == target
                ),
                None,
            )
            if hit is None:
                out.append(
                    _ev(
                        field,
                        claim.start(),
                        claim.end(),
                        claim.group(0),
                        "time_claim_unsupported",
                        f"no offer ends on {target}",
                    )
                )
    for left_claim in find_remaining(text):
        left = [(w.end - ctx.send_at).total_seconds() / 3600 for w in idx.windows if w.end and w.end >= ctx.send_at]
        unit = left_claim.unit_hours
        if not any(_remaining_holds(left_claim.hours / unit, h / unit) for h in left):
            known = ", ".join(f"{h:.0f} h" for h in left) or "no offer end"
            out.append(
                _ev(
                    field,
                    left_claim.start,
                    left_claim.end,
                    left_claim.text,
                    "time_claim_unsupported",
                    f"time left: {known}",
                )
            )
    return out


def _remaining_holds(claimed: float, actual: float) -> bool:
    """ "2 days left" holds for 25 to 48 hours left: the time left rounded up to whole units, or one unit less
    (a common, harmless rounding down). Anything else under- or overstates it."""
    return math.ceil(actual) in (round(claimed), round(claimed) + 1)


def _links_and_products(
    idx: FactsIndex, ctx: CheckContext, field: str, text: str
) -> tuple[list[Evidence], list[Mention]]:
    out: list[Evidence] = []
    hosts = idx.hosts | {d.lower().removeprefix("www.") for d in ctx.brand_domains}
    links = find_urls(text)
    for u in links:
        norm = normalize_url(u.text)
        host = url_host(u.text)
        if norm not in idx.urls and not any(host == h or host.endswith("." + h) for h in hosts):
            out.append(_ev(field, u.start, u.end, u.text, "url_not_allowed", f"links in facts or on {sorted(hosts)}"))
    # The catalogue is indexed once per workspace; the bundle's names are added per draft.
    mentions = [
        m
        for m in product_mentions(text, ctx.catalogue, tuple(idx.product_names))
        if not any(u.start <= m.start < u.end for u in links)  # a slug inside a link is checked as a link
    ]
    words, heads = _catalogue_words(ctx.catalogue, tuple(idx.product_names))
    out += [
        _ev(field, u.start, u.end, u.text, "product_not_in_catalogue", "a product of the catalogue")
        for u in unknown_names(text, mentions, heads)
    ]
    # Other capitalised phrases of three words or more that no fact writes: perhaps a product the brand does not
    # sell; a reviewer looks (a flag, not a block: it may be an event's or a season's name).
    known = (
        idx.brand_text + " " + ctx.bundle.brand.name.lower() + " " + (ctx.bundle.brand.sender_identity or "").lower()
    ) + _event_text(ctx)  # the customer's own events name workshops and stores ("Winter Layering Workshop")
    out += [
        _ev(field, u.start, u.end, u.text, "unknown_name", "a name the facts write")
        for u in unknown_names(text, mentions, None)
        if not any(e.start == u.start for e in out)
        and not all(w.lower() in known for w in u.text.replace("-", " ").split())
    ]
    for mention in mentions + extended_names(text, mentions, words):
        fact_id = idx.product_names.get(mention.name.lower())
        if mention.exact and fact_id is None:
            out.append(
                _ev(field, mention.start, mention.end, mention.text, "product_not_in_bundle", "a product in the bundle")
            )
        elif not mention.exact:
            out.append(_ev(field, mention.start, mention.end, mention.text, "product_near_miss", mention.name, fact_id))
    return out, mentions


def _event_text(ctx: CheckContext) -> str:
    return " ".join(f.text.lower() for f in ctx.bundle.facts if f.kind in (FactKind.EVENT, FactKind.PURCHASE))


@lru_cache(maxsize=64)
def _catalogue_words(catalogue: tuple[str, ...], extra: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """Every word of every known name (a word of another product's name is not an added word), and the words
    names end in (what an unknown product name would end in too)."""
    names = catalogue + extra
    words = frozenset(w.lower() for name in names for w in name.split())
    heads = frozenset(stem(n.split()[-1]) for n in names if n.split() and n.split()[-1].isalpha() and n.isascii())
    return words, heads


def check_grounding(variant: Variant, ctx: CheckContext) -> CheckResult:
    """Block any risky value that does not match, exactly, a fact in the bundle the draft came from."""
    idx = ctx.facts
    evidence: list[Evidence] = []
    known = ctx.bundle.ids()
    evidence.extend(
        Evidence(field="fact_ids", text=fid, reason_code="unknown_fact_id", expected="an id from the bundle")
        for fid in variant.fact_ids
        if fid not in known
    )
    fields = copy_fields(variant)
    offers = named_offers(idx, list(fields.values()))
    for field, text in fields.items():
        found, mentions = _links_and_products(idx, ctx, field, text)
        evidence.extend(_money(idx, field, text, [(m.start, m.end) for m in mentions if m.exact]))
        evidence.extend(_dates(idx, ctx, field, text))
        evidence.extend(found)
        evidence.extend(verify_claims(idx, ctx, field, text, mentions, offers))
    if not evidence:
        return passed(NAME, "Every price, code, date, product and link matches the bundle.")
    blocks = [e for e in evidence if e.reason_code not in FLAG_ONLY]
    shown = blocks or evidence
    codes = list(dict.fromkeys(e.reason_code or "" for e in shown))
    listing = "; ".join(f"{e.reason_code}: '{e.text}'" for e in shown[:6])
    verdict = Verdict.BLOCK if blocks else Verdict.FLAG
    return result(NAME, verdict, codes[0], f"Not grounded in the facts: {listing}.", evidence)
