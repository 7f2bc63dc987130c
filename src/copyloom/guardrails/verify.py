"""Bind each claim to its subject (the product or offer it is about, the nearest in its sentence) and verify it
against the facts: a price is that product's price (or arithmetic on named prices), a code or percentage
belongs to a live offer that covers that product and this customer, stacking needs an offer that allows it, a
benefit needs a brand fact that grants it, an end date or weekday is an offer's, a tier is the profile's, and
the customer's own history needs a purchase or event fact and personalization consent.

Every piece of evidence names the claim (its span) and the fact it contradicts or lacks (``expected``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import combinations, pairwise

from copyloom.contracts.facts import FactKind
from copyloom.contracts.text import CJK_RE
from copyloom.contracts.words import sentence_of
from copyloom.guardrails.claim_patterns import BENEFIT_LABELS, STACK_ALLOWED, STACK_REFUSED
from copyloom.guardrails.claims import Claim, extract_claims, possessive_before
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.extract import DateMention, find_dates, mention_dates
from copyloom.guardrails.facts_index import FactsIndex, OfferRef, ProductRef, content_words, stem
from copyloom.guardrails.products import Mention
from copyloom.guardrails.types import Evidence

_CENT = Decimal("0.01")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NOT_A_NAME_PART = frozenset(
    {"and", "or", "the", "a", "an", "is", "are", "now", "new", "sale", "off", "for", "with", "at", "only", "just"}
    | {"from", "today", "in", "on", "to", "by", "of", "i", "you", "we", "it", "this", "that", "your", "our"}
)


_CLAUSE_BREAK = re.compile(r"[,;，；、]")


@dataclass(frozen=True, slots=True)
class Subject:
    mention: Mention
    refs: tuple[ProductRef, ...]
    owned: bool  # "your <product>": the customer's own, context rather than the subject of an offer


def _ev(field: str, claim: Claim, code: str, expected: str, fact_id: str | None = None) -> Evidence:
    return Evidence(
        field=field,
        start=claim.start,
        end=claim.end,
        text=claim.text,
        reason_code=code,
        expected=expected,
        fact_id=fact_id,
    )


def _key(name: str) -> str:
    return " ".join(name.lower().split())


def subjects(idx: FactsIndex, text: str, mentions: list[Mention]) -> list[Subject]:
    out: list[Subject] = []
    for m in mentions:
        if m.exact:
            out.append(Subject(m, idx.products.get(_key(m.name), ()), possessive_before(text, m.start)))
    return out


def _nearest(text: str, claim: Claim, subs: list[Subject], *, skip_owned: bool) -> Subject | None:
    """The product mention closest to the claim in its sentence (ties: the one before it)."""
    lo, hi = sentence_of(text, claim.start)
    best: tuple[int, int, Subject] | None = None
    for s in subs:
        m = s.mention
        if m.end <= lo or m.start >= hi or (skip_owned and s.owned):
            continue
        gap = claim.start - m.end if m.end <= claim.start else m.start - claim.end
        # A clause break between them ("铸铁茶壶到手349元，便携泡茶杯到手79元") puts the claim with the product on its side.
        between = text[m.end : claim.start] if m.end <= claim.start else text[claim.end : m.start]
        gap += 40 if _CLAUSE_BREAK.search(between) else 0
        key = (max(gap, 0), 0 if m.end <= claim.start else 1, s)
        if best is None or key[:2] < best[:2]:
            best = key
    return best[2] if best else None


def _money_matches(value: Decimal, candidates: set[Decimal]) -> bool:
    return any(abs(value - c) < _CENT for c in candidates)


def _sale_prices(idx: FactsIndex, refs: tuple[ProductRef, ...], currencies: frozenset[str] | None) -> set[Decimal]:
    """A product's price, and that price with each offer covering it applied (and the saving), in the currency
    the claim is written in."""
    out: set[Decimal] = set()
    for r in refs:
        if r.price is None or (currencies is not None and r.currencies is not None and not currencies & r.currencies):
            continue
        out.add(r.price)
        for o in idx.offers:
            if not o.covers(r):
                continue
            if o.percent is not None and 0 < o.percent < 100:
                out.add((r.price * (100 - o.percent) / 100).quantize(_CENT, rounding=ROUND_HALF_UP))
                out.add((r.price * o.percent / 100).quantize(_CENT, rounding=ROUND_HALF_UP))  # the saving
            if o.amount is not None and o.amount < r.price:
                out.add(r.price - o.amount)
    return out


def _arithmetic(named: list[set[Decimal]]) -> set[Decimal]:
    """Totals of the prices of two or three products named in one draft (each at its price or its sale price)."""
    out: set[Decimal] = set()
    for k in (2, 3):
        for combo in combinations(range(len(named)), k):
            totals: set[Decimal] = {Decimal(0)}
            for i in combo:
                totals = {t + p for t in totals for p in named[i]}
            out |= totals
    return out


_QUANTITY = re.compile(
    r"\b(?:(?P<n>[2-9]|10)\s?(?:x\s)?|(?P<w>two|three|four|five|six|seven|eight|nine|ten)\s)(?:pairs?|packs?|pieces?|items?"
    r"|sets?|units?|bottles?|boxes?|of)\b|(?P<z>[两二三四五六七八九十]|[2-9])\s?(?:双|件|个|套|包|盒|瓶|条|只|份)",
    re.IGNORECASE,
)
_ZH_QTY = {"两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _quantities(sentence: str) -> set[int]:
    """Quantities the sentence states ("two pairs", "3 x", "两双"): a price may be that many of a product."""
    out: set[int] = set()
    for m in _QUANTITY.finditer(sentence):
        raw = m.group("n") or m.group("w") or m.group("z")
        out.add(int(raw) if raw.isdigit() else _NUMBER_WORDS.get(raw.lower(), _ZH_QTY.get(raw, 1)))
    return out


def _price(idx: FactsIndex, field: str, text: str, claim: Claim, subs: list[Subject]) -> list[Evidence]:
    assert claim.value is not None
    value = claim.value
    glued = _glued_subject(text, claim, subs)
    if glued is not None:
        # "便携泡茶杯99元", "Cast Iron Teapot, £32.50": that product's price, whatever else the facts quote.
        return _subject_price(idx, field, text, claim, glued, subs)
    owned = {
        v
        for v, cur, fid in idx.prices
        if claim.currencies is None or cur is None or claim.currencies & cur
        if not fid.startswith(("product:", "purchase:"))
    }  # offer amounts, thresholds and knowledge: not any one product's price
    if _money_matches(value, owned):
        return []
    named = [_sale_prices(idx, s.refs, claim.currencies) for s in subs if s.refs]
    subject = _nearest(text, claim, [s for s in subs if s.refs], skip_owned=False)
    if subject is not None:
        return _subject_price(idx, field, text, claim, subject, subs)
    every = {v for v, cur, _ in idx.prices if claim.currencies is None or cur is None or claim.currencies & cur}
    if _money_matches(value, every | _arithmetic(named)):
        return []
    known = ", ".join(sorted({f"{v}" for v, _, _ in idx.prices})) or "none"
    return [_ev(field, claim, "price_not_in_facts", f"prices in facts: {known}")]


# What may stand between a product's name and its price: "X 99元", "X, £32.50", "X售价99元", "X is just $89".
_GLUE = re.compile(
    r"[\s,:：(（—–-]*(?:(?:is|are|now|just|only|at|for|costs?|priced at|from|售价|现价|仅需|仅|只要|只需|低至|价格|价|为)"
    r"[\s:：]*)*",
    re.IGNORECASE,
)
_THRESHOLD = re.compile(r"\b(?:off|save|saving|over|orders?|spend|minimum)\b|满|减|省|以上|包邮|运费|优惠|券", re.I)


def _glued_subject(text: str, claim: Claim, subs: list[Subject]) -> Subject | None:
    """The product whose name the price directly follows, when its clause says nothing of thresholds or savings."""
    lo, hi = sentence_of(text, claim.start)
    for s in subs:
        if s.refs and s.mention.end <= claim.start and _GLUE.fullmatch(text, s.mention.end, claim.start):
            clause = re.split(r"[,;，；。]", text[claim.end : hi], maxsplit=1)[0]
            if not _THRESHOLD.search(text[max(lo, s.mention.start - 12) : s.mention.start] + " " + clause):
                return s
    return None


def _subject_price(
    idx: FactsIndex, field: str, text: str, claim: Claim, subject: Subject, subs: list[Subject]
) -> list[Evidence]:
    assert claim.value is not None
    value = claim.value
    named = [_sale_prices(idx, s.refs, claim.currencies) for s in subs if s.refs]
    mine = _sale_prices(idx, subject.refs, claim.currencies)
    lo, hi = sentence_of(text, claim.start)
    mine |= {p * q for p in mine for q in _quantities(text[lo:hi])}  # "two pairs for $37.00"
    if _money_matches(value, mine | _arithmetic(named)):
        return []
    other = next(
        (
            s.mention.name
            for s in subs
            if s is not subject and s.refs and _money_matches(value, _sale_prices(idx, s.refs, claim.currencies))
        ),
        None,
    )
    if other is None:
        other = next(
            (
                r.name
                for refs in idx.products.values()
                for r in refs
                if r.price is not None and r not in subject.refs and _money_matches(value, {r.price})
            ),
            None,
        )
    listed = ", ".join(f"{p}" for p in sorted({r.price for r in subject.refs if r.price is not None})) or "none"
    code = "price_of_other_product" if other else "price_not_in_facts"
    said = f" (that is {other}'s price)" if other else ""
    return [_ev(field, claim, code, f"{subject.mention.name} costs {listed}{said}", subject.refs[0].fact_id)]


def _offer_for_customer(idx: FactsIndex, ctx: CheckContext, offer: OfferRef) -> str | None:
    """Why the offer cannot be promised to this customer at the send time, or None."""
    if not offer.live(ctx.send_at):
        return f"{offer.fact_id} runs {offer.start and offer.start.date()}..{offer.end and offer.end.date()}"
    customer = ctx.bundle.customer
    tiers = {k for k, _ in idx.tiers}
    for key, allowed in offer.eligibility.items():
        allow = {a.lower() for a in allowed}
        low = key.lower()
        if low in {"country", "countries", "market", "markets", "region"} and customer.country:
            if customer.country.lower() not in allow:
                return f"{offer.fact_id} is for {key} {sorted(allow)}, not {customer.country}"
        elif "locale" in low or "language" in low:
            lang = customer.locale.lower()
            if not any(lang == a or lang.split("-")[0] == a.split("-")[0] for a in allow):
                return f"{offer.fact_id} is for {key} {sorted(allow)}, not {customer.locale}"
        elif "tier" in low and tiers and not tiers & allow:
            return f"{offer.fact_id} is for {key} {sorted(allow)}, not {sorted(tiers)}"
    return None


def _covering(text: str, claim: Claim, offer: OfferRef, subject: Subject | None) -> bool:
    if subject is None or not subject.refs or any(offer.covers(r) for r in subject.refs):
        return True
    # The copy names what the offer covers between the product and the claim ("your Pegasus 40 deserves
    # socks: 20% off"): the claim is about that, not about the product.
    a, b = (
        sorted((subject.mention.end, claim.start))
        if subject.mention.end <= claim.start
        else (claim.end, subject.mention.start)
    )
    between = text[a:b]
    return bool(offer.categories & content_words(between)) or any(
        c in between for c in offer.categories if CJK_RE.search(c)
    )


def _offers(
    idx: FactsIndex, ctx: CheckContext, field: str, text: str, claims: tuple[Claim, ...], subs: list[Subject]
) -> list[Evidence]:
    out: list[Evidence] = []
    by_code = {o.code: o for o in idx.offers if o.code}
    for claim in claims:
        if claim.kind not in ("code", "percent"):
            continue
        subject = _nearest(text, claim, subs, skip_owned=True)
        if claim.kind == "code":
            offer = by_code.get(claim.text.upper())
            if offer is None:
                continue  # not an offer's code (a sku, the brand): the code rule decides
            candidates = [offer]
        else:
            candidates = [o for o in idx.offers if o.percent is not None and o.percent == claim.value]
            if not candidates:
                continue  # no offer at this rate: the percentage rule decides
        problems = [p for o in candidates if (p := _offer_for_customer(idx, ctx, o)) is not None]
        if len(problems) == len(candidates):
            out.append(_ev(field, claim, "offer_not_for_customer", "; ".join(problems), candidates[0].fact_id))
            continue
        if subject is not None and not any(_covering(text, claim, o, subject) for o in candidates):
            cover = "; ".join(
                f"{o.fact_id} covers {', '.join(sorted(o.skus | o.categories)) or 'everything'}" for o in candidates
            )
            out.append(
                _ev(
                    field,
                    claim,
                    "offer_not_for_product",
                    f"{subject.mention.name} is not covered: {cover}",
                    candidates[0].fact_id,
                )
            )
    # A percentage next to a code is that code's rate.
    for claim in claims:
        if claim.kind != "percent":
            continue
        lo, hi = sentence_of(text, claim.start)
        codes = [
            by_code[c.text.upper()]
            for c in claims
            if c.kind == "code" and lo <= c.start < hi and c.text.upper() in by_code
        ]
        rates = {o.percent for o in codes if o.percent is not None}
        if rates and claim.value not in rates and not any(c.kind == "stacking" and lo <= c.start < hi for c in claims):
            said = ", ".join(f"{o.code} is {o.percent.normalize():f}% off" for o in codes if o.percent is not None)
            out.append(_ev(field, claim, "percent_not_for_offer", said, codes[0].fact_id))
    return out


def _stacking(idx: FactsIndex, field: str, text: str, claims: tuple[Claim, ...]) -> list[Evidence]:
    allowed = any(STACK_ALLOWED.search(o.text) and not STACK_REFUSED.search(o.text) for o in idx.offers)
    if allowed:
        return []
    out = [
        _ev(field, c, "stacking_not_allowed", "an offer that may be combined with others")
        for c in claims
        if c.kind == "stacking"
    ]
    for lo, hi in {sentence_of(text, c.start) for c in claims if c.kind == "code"}:
        offer_codes = {c.text.upper() for c in claims if c.kind == "code" and lo <= c.start < hi} & {
            o.code for o in idx.offers if o.code
        }
        here = [c for c in claims if c.kind == "code" and lo <= c.start < hi and c.text.upper() in offer_codes]
        # Two offers named in one sentence are stacked when they are used together ("SPRING15 and POT10",
        # "combine A with B"), not when each is offered on its own ("15% off tea with A, and £10 off teaware with B").
        joined = any(_JOINED.fullmatch(text, a.end, b.start) for a, b in pairwise(here))
        if len(offer_codes) > 1 and (joined or _TOGETHER.search(text[lo:hi])):
            out.append(_ev(field, here[0], "stacking_not_allowed", f"codes {sorted(offer_codes)} are separate offers"))
    return out


_JOINED = re.compile(r"\s*(?:,\s*)?(?:and|&|\+|plus|with|or|和|与|及|加|加上|再加|、|，)\s*", re.I)
_TOGETHER = re.compile(
    r"\btogether\b|\bcombine|\bstack|\bat once\b|\bsame (?:order|basket|cart)\b|同时|叠加|一起用|一起使用", re.I
)


_QUALIFIER_WORDS = {
    "lifetime": r"lifetime|for life|终身",
    "终身": r"lifetime|for life|终身",
    "double": r"double|2x|2 x|twice|双倍|两倍|2倍",
    "双倍": r"double|2x|2 x|twice|双倍|两倍|2倍",
    "triple": r"triple|3x|3 x|三倍|3倍",
    "三倍": r"triple|3x|3 x|三倍|3倍",
    "extended": r"extended|延长",
    "express": r"express|加急|特快",
    "next-day": r"next[- ]day|overnight|次日|隔日",
    "next day": r"next[- ]day|overnight|次日|隔日",
    "same-day": r"same[- ]day|当日|当天",
    "same day": r"same[- ]day|当日|当天",
    "overnight": r"next[- ]day|overnight|次日|隔日",
    "two-day": r"two[- ]day|2[- ]day",
    "2-day": r"two[- ]day|2[- ]day",
}
# "free shipping on every order": granted only by a fact without a minimum order
_EVERY_ORDER_AFTER = re.compile(
    r"\s*(?:on|for|with)?\s*(?:every|all|any)\s+(?:orders?|purchases?)|\s*(?:with\s+)?no minimum", re.I
)
_EVERY_ORDER_BEFORE = re.compile(r"(?:全场|无门槛|全部订单|所有订单)\s*$")
_THRESHOLD_TERMS = re.compile(r"\bover\b|\bminimum\b|\bor more\b|\babove\b|满|以上|起", re.I)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_NUMBER_WORDS |= {"ten": 10, "thirty": 30, "sixty": 60, "ninety": 90}


def _qualifier_granted(qualifier: str, granting: str) -> bool:
    """Whether a granting fact states the qualifier too, across languages: "2年质保" is granted by a "2-year
    warranty", "lifetime" by "终身", "double points" by "2x points"."""
    low = granting.lower()
    if qualifier in _QUALIFIER_WORDS:
        return re.search(_QUALIFIER_WORDS[qualifier], low) is not None
    number = re.search(r"\d+", qualifier)
    word = next((n for w, n in _NUMBER_WORDS.items() if w in qualifier), None)
    value = int(number.group(0)) if number else word
    if value is None:
        return qualifier in low
    spelled = [w for w, n in _NUMBER_WORDS.items() if n == value]
    return re.search(rf"(?<!\d){value}(?!\d)|\b(?:{'|'.join(spelled) or 'x^'})\b", low) is not None


def _benefit(idx: FactsIndex, field: str, text: str, claim: Claim) -> list[Evidence]:
    grants = idx.benefits.get(claim.label, ())
    label = BENEFIT_LABELS.get(claim.label, claim.label)
    if claim.label == "free_item" and any(o.percent == 100 for o in idx.offers):
        return []
    if not grants:
        return [_ev(field, claim, "benefit_not_in_facts", f"no offer or brand fact grants {label}")]
    said = "; ".join(f"{fid}: {t[:80]}" for fid, t in grants[:2])
    q = claim.qualifier
    if q and not any(_qualifier_granted(q, t) for _, t in grants):
        return [_ev(field, claim, "benefit_not_in_facts", f"{label} as granted: {said}", grants[0][0])]
    every = _EVERY_ORDER_AFTER.match(text, claim.end) or _EVERY_ORDER_BEFORE.search(text[: claim.start])
    if claim.label == "free_shipping" and every and all(_THRESHOLD_TERMS.search(t) for _, t in grants):
        return [_ev(field, claim, "benefit_not_in_facts", f"{label} on every order; as granted: {said}", grants[0][0])]
    return []


def _tier(idx: FactsIndex, field: str, claim: Claim) -> list[Evidence]:
    have = {k for k, _ in idx.tiers}
    if claim.label in have:
        return []
    if have:
        return [
            _ev(field, claim, "tier_mismatch", f"the customer's tier is {', '.join(sorted(have))}", idx.tiers[0][1])
        ]
    return [_ev(field, claim, "tier_not_in_facts", "a profile fact with the customer's tier", idx.tier_fact)]


@lru_cache(maxsize=256)
def _brand_dates(text: str) -> frozenset[tuple[int, int]]:
    return frozenset(r for d in find_dates(text) for r in d.readings)


def _ends(idx: FactsIndex) -> list[tuple[date, str]]:
    out: list[tuple[date, str]] = []
    for w in idx.windows:
        if w.end is not None:
            out += [(idx.local_date(w.end), w.fact_id), (w.end.date(), w.fact_id)]
    return out


_NEXT_TO = re.compile(r"[\s,，(（)）]{0,3}")
_PAST_WEEKDAY = re.compile(r"(?:\blast|\bthis past|上个?)\s*$", re.IGNORECASE)
_WEEKDAY_HORIZON = 14  # "ends Wednesday" may be a week away, not more


def _offer_ends(idx: FactsIndex, offers: tuple[OfferRef, ...]) -> list[tuple[date, str]]:
    out: list[tuple[date, str]] = []
    for o in offers:
        if o.end is not None:
            out += [(idx.local_date(o.end), o.fact_id), (o.end.date(), o.fact_id)]
    return out


def _bound_offers(
    text: str, claim: Claim, claims: tuple[Claim, ...], idx: FactsIndex, variant_offers: tuple[OfferRef, ...]
) -> tuple[OfferRef, ...]:
    """The offers a date or weekday is about: those whose code its sentence names, else those the draft names."""
    lo, hi = sentence_of(text, claim.start)
    codes = {c.text.upper() for c in claims if c.kind == "code" and lo <= c.start < hi}
    here = tuple(o for o in idx.offers if o.code and o.code in codes)
    return here or variant_offers


def _nearest_reading(mention: DateMention, send_day: date) -> date | None:
    """The date a mention most likely means: its year if it states one, else the reading nearest the send day
    (a date just past may be named, a date months back is rather next year's)."""
    days = mention_dates(mention, send_day)
    if not days:
        return None
    return min(days, key=lambda d: abs((d - send_day).days) + (0 if d >= send_day - timedelta(days=30) else 400))


def _weekday(
    idx: FactsIndex,
    ctx: CheckContext,
    field: str,
    text: str,
    claim: Claim,
    claims: tuple[Claim, ...],
    variant_offers: tuple[OfferRef, ...],
) -> list[Evidence]:
    day = int(claim.label)
    send_day = idx.local_date(ctx.send_at)
    # A weekday written next to a date ("Thursday, Dec 31", "12月31日（周四）") names that date's weekday: the date is
    # checked as a date, the weekday against the calendar.
    for m in find_dates(text):
        if _NEXT_TO.fullmatch(text, claim.end, m.start) or _NEXT_TO.fullmatch(text, m.end, claim.start):
            when = _nearest_reading(m, send_day)
            if when is None or when.weekday() == day:
                return []
            return [_ev(field, claim, "weekday_mismatch", f"{m.text} is a {when:%A} ({when})")]
    if _PAST_WEEKDAY.search(text[max(0, claim.start - 12) : claim.start]):
        # "last Saturday", "上周六": a day of the past two weeks, on which a purchase or event of the customer's fell
        past = [send_day - timedelta(days=n) for n in range(1, _WEEKDAY_HORIZON)]
        hits = [d for d in past if d.weekday() == day and d in idx.dates]
        if hits:
            return []
        return [
            _ev(
                field,
                claim,
                "weekday_mismatch",
                f"no purchase or event of the customer's on a {_WEEKDAY_NAMES[day]} in the past two weeks",
            )
        ]
    bound = _bound_offers(text, claim, claims, idx, variant_offers)
    if bound and claim.qualifier in ("end", ""):
        ends = _offer_ends(idx, bound)
        horizon = {send_day + timedelta(days=n) for n in range(_WEEKDAY_HORIZON)}
        if any(d.weekday() == day and d in horizon for d, _ in ends):
            return []
        if claim.qualifier == "end" or not any(d in horizon for d, _ in ends):
            listing = ", ".join(f"{fid} ends {d:%A} {d}" for d, fid in ends[::2])
            return [_ev(field, claim, "weekday_mismatch", f"sent {send_day:%A} {send_day}; {listing}")]
    horizon_list = [send_day + timedelta(days=n) for n in range(8)]
    if claim.qualifier == "end":
        candidates = [d for d, _ in _ends(idx)]
    elif claim.qualifier == "start":
        candidates = [idx.local_date(w.start) for w in idx.windows if w.start is not None]
    else:
        candidates = [d for d, _ in _ends(idx)] + list(idx.dates) + [send_day]
    if any(d.weekday() == day and d in horizon_list for d in candidates):
        return []
    if claim.qualifier == "" and _WEEKDAY_NAMES[day].lower() in idx.brand_text:
        return []
    ends_text = ", ".join(f"{fid} ends {d:%A} {d}" for d, fid in _ends(idx)[::2]) or "no offer end"
    return [_ev(field, claim, "weekday_mismatch", f"sent {send_day:%A} {send_day}; {ends_text}")]


def _end_date(
    idx: FactsIndex,
    ctx: CheckContext,
    field: str,
    text: str,
    claim: Claim,
    claims: tuple[Claim, ...],
    variant_offers: tuple[OfferRef, ...],
) -> list[Evidence]:
    send_day = idx.local_date(ctx.send_at)
    mentions = [m for m in find_dates(claim.text) if m.start == 0]
    if not mentions:
        return []
    days = mention_dates(mentions[0], send_day)
    bound = _bound_offers(text, claim, claims, idx, variant_offers)
    ends_of = _offer_ends(idx, bound) if bound else _ends(idx)
    ends = {d for d, _ in ends_of}
    said = "\n".join(o.text.lower() for o in bound) if bound else idx.brand_text
    if any(d in ends for d in days) or any(r in _brand_dates(said) for r in mentions[0].readings):
        return []
    if not ends:
        return []  # no offer end to compare with: the date rule decides whether the date is grounded
    listing = ", ".join(f"{fid} ends {d}" for d, fid in ends_of[::2])
    return [_ev(field, claim, "end_date_mismatch", listing)]


def _owns(idx: FactsIndex, s: Subject) -> bool:
    """Whether the customer bought the product (a purchase fact, or the catalogue product of a purchased sku) or
    has an event about it (viewed, carted)."""
    return any(
        r.kind is FactKind.PURCHASE or (r.sku or "").upper() in idx.purchase_skus | idx.event_skus for r in s.refs
    )


_ATTEND = re.compile(r"attend|join|visit|came|coming|stopp|came by|参加|参与|光临|莅临|到店|来店|光顾", re.IGNORECASE)
_ATTENDED_FACT = re.compile(r"attend|visit|check(?:ed)?[- ]in|register|rsvp|参加|参与|到店|签到|报名", re.IGNORECASE)


def _attended(ctx: CheckContext) -> bool:
    return any(f.kind is FactKind.EVENT and _ATTENDED_FACT.search(f.text) for f in ctx.bundle.facts)


def _history(
    idx: FactsIndex, ctx: CheckContext, field: str, text: str, claims: tuple[Claim, ...], subs: list[Subject]
) -> list[Evidence]:
    out: list[Evidence] = []
    for claim in claims:
        if claim.kind != "history":
            continue
        if not ctx.bundle.personalization_allowed:
            out.append(_ev(field, claim, "personalization_not_allowed", "personalization consent for this channel"))
        elif not idx.history_fact_ids:
            out.append(_ev(field, claim, "history_not_in_facts", "a purchase or event fact"))
        elif _ATTEND.search(claim.text) and not _attended(ctx):
            # "since you attended", "感谢您参加": an event the customer came to, not a purchase or a page view
            out.append(
                _ev(field, claim, "history_not_in_facts", "an event fact of the customer's attending or visiting")
            )
        else:
            # "since you bought the <product>": that product must be among the customer's own.
            hi = sentence_of(text, claim.start)[1]
            lo = sentence_of(text, claim.start)[0]
            named = [x for x in subs if claim.end <= x.mention.start < min(hi, claim.end + 40) and x.refs]
            # "the Merino Crew Socks you tried": the product right before the claim
            named = named or [
                x for x in subs if lo <= x.mention.start and 0 <= claim.start - x.mention.end <= 3 and x.refs
            ]
            if named and not _owns(idx, named[0]):
                bought = sorted({r.name for refs in idx.products.values() for r in refs if r.kind is FactKind.PURCHASE})
                out.append(_ev(field, claim, "history_not_in_facts", f"purchases: {', '.join(bought) or 'none'}"))
    for s in subs:
        if not s.owned:
            continue
        claim = Claim("history", s.mention.start, s.mention.end, s.mention.text)
        if not ctx.bundle.personalization_allowed:
            out.append(_ev(field, claim, "personalization_not_allowed", "personalization consent for this channel"))
        elif not _owns(idx, s):
            bought = sorted({r.name for refs in idx.products.values() for r in refs if r.kind is FactKind.PURCHASE})
            out.append(_ev(field, claim, "history_not_in_facts", f"purchases: {', '.join(bought) or 'none'}"))
    return out


_UNIT_AFTER = re.compile(
    r"\s?(?:[.,]\d|%|％|元|块|折|件|双|个|套|x\b|pairs?\b|packs?\b|for\b|at\b|usd|eur|gbp|cny)", re.I
)
_NEXT_WORD = re.compile(r"[ \u00a0]?([A-Z][a-z]+|[A-Z0-9][A-Z0-9-]{0,5}|\d+)(?![A-Za-z0-9])")


def _blank(text: str, mentions: list[Mention]) -> str:
    for m in mentions:
        text = text[: m.start] + " " * (m.end - m.start) + text[m.end :]
    return text


def title_case(text: str, mentions: list[Mention]) -> bool:
    """Whether the words outside product names are (nearly) all capitalised, as in a headline."""
    latin = re.findall(r"(?<![A-Za-z0-9])[A-Za-z]+(?![A-Za-z0-9])", _blank(text, mentions))
    capitalised = [w for w in latin if w[0].isupper()]
    return len(latin) >= 3 and len(capitalised) * 10 >= len(latin) * 8


_CALENDAR = frozenset(
    {"year", "day", "days", "eve", "christmas", "holiday", "holidays", "season", "weekend", "week", "month", "sale"}
    | {"event", "festival", "night", "morning"}
    | {d.lower() for d in _WEEKDAY_NAMES}
    | {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october"}
    | {"november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
    | {"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}
)
_CAPITAL_RUN = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Z][a-z]+|[A-Z]{2,})(?:[ -](?:[A-Z][a-z]+|[A-Z]{2,}|\d+))+(?![A-Za-z0-9])"
)


def unknown_names(text: str, mentions: list[Mention], heads: frozenset[str] | None) -> list[Mention]:
    """Capitalised phrases that are no known product: with ``heads``, those ending in a word that ends product
    names of this catalogue ("Thermal Liner Gloves" when names end in "Gloves", "Socks", "Jacket"); without,
    every phrase of three capitalised words or more. Headlines in Title Case are left alone (every phrase there
    is capitalised)."""
    if (heads is not None and not heads) or title_case(text, mentions):
        return []
    out: list[Mention] = []
    for m in _CAPITAL_RUN.finditer(_blank(text, mentions)):
        words = m.group(0).replace("-", " ").split()
        if words[0].lower() in _NOT_A_NAME_PART:
            continue
        if heads is None and (
            any(w.lower().rstrip(".") in _CALENDAR for w in words) or all(w.isupper() or w.isdigit() for w in words)
        ):
            continue  # "Happy New Year": a time, not a product; "COMPLETE YOUR KIT": shouting (the tone check's)
        if stem(words[-1]) in heads if heads is not None else len(words) >= 3:
            out.append(Mention(m.start(), m.end(), m.group(0), m.group(0), True))
    return out


def extended_names(text: str, mentions: list[Mention], catalogue_words: frozenset[str]) -> list[Mention]:
    """Exact names with a word added ("Pegasus 40 Pro"): a product the catalogue does not have."""
    if title_case(text, mentions):
        return []  # Title Case or all capitals: every word looks like part of a name
    out: list[Mention] = []
    for m in mentions:
        if not m.exact:
            continue
        nxt = _NEXT_WORD.match(text, m.end)
        if nxt is None or nxt.group(1).lower() in _NOT_A_NAME_PART or nxt.group(1).lower() in catalogue_words:
            continue
        if nxt.group(1).isdigit() and (CJK_RE.search(m.name) or _UNIT_AFTER.match(text, nxt.end())):
            continue  # "峰顶羽绒服1599元", "峰顶羽绒服8折", "Pegasus 40 2 pairs": a price, rate or quantity, not a name
        out.append(Mention(m.start, nxt.end(), text[m.start : nxt.end()], m.name, False))
    return out


def verify_claims(
    idx: FactsIndex,
    ctx: CheckContext,
    field: str,
    text: str,
    mentions: list[Mention],
    variant_offers: tuple[OfferRef, ...] = (),
) -> list[Evidence]:
    """Every claim of one field, verified; ``variant_offers`` are the offers the whole draft names by code (a
    subject line's "ends Sunday" is about the offer its body names)."""
    # Words inside a product's own name ("100% Cotton Tee", "Gold Card Holder") are the name, checked as one.
    names = [(m.start, m.end) for m in mentions if m.exact]
    claims = tuple(c for c in extract_claims(text) if not any(a <= c.start and c.end <= b for a, b in names))
    subs = subjects(idx, text, mentions)
    out: list[Evidence] = []
    for claim in claims:
        if claim.kind == "price":
            out += _price(idx, field, text, claim, subs)
        elif claim.kind == "benefit":
            out += _benefit(idx, field, text, claim)
        elif claim.kind == "tier":
            out += _tier(idx, field, claim)
        elif claim.kind == "weekday":
            out += _weekday(idx, ctx, field, text, claim, claims, variant_offers)
        elif claim.kind == "end_date":
            out += _end_date(idx, ctx, field, text, claim, claims, variant_offers)
    out += _offers(idx, ctx, field, text, claims, subs)
    out += _stacking(idx, field, text, claims)
    out += _history(idx, ctx, field, text, claims, subs)
    return out


def named_offers(idx: FactsIndex, texts: list[str]) -> tuple[OfferRef, ...]:
    """The offers a draft names by their code, in any of its fields."""
    codes = {c.text.upper() for t in texts for c in extract_claims(t) if c.kind == "code"}
    return tuple(o for o in idx.offers if o.code and o.code in codes)
