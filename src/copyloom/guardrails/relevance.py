"""Relevance: the draft serves the brief's goal, uses the customer's facts only when allowed, in their language."""

from __future__ import annotations

import re

from copyloom.contracts.enums import Goal
from copyloom.contracts.text import cjk_ratio, copy_fields, is_chinese_locale
from copyloom.contracts.variants import Variant
from copyloom.guardrails.claims import extract_claims
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.extract import find_urls
from copyloom.guardrails.language import other_latin_language, script_flags, traditional_spans
from copyloom.guardrails.names import wrong_names
from copyloom.guardrails.products import product_mentions
from copyloom.guardrails.results import passed, result, worst
from copyloom.guardrails.types import CheckResult, Evidence, Verdict

NAME = "relevance"
ZH_MIN_RATIO = 0.25
EN_MAX_RATIO = 0.2

# Words that show a draft is about its goal (en + zh). A weak signal, so a miss only flags.
GOAL_WORDS: dict[Goal, re.Pattern[str]] = {
    Goal.WIN_BACK: re.compile(
        r"miss(?:ed)? you|come back|welcome back|been a while|it's been|while since|return|again|想念|回来|好久|再次|回归"
    ),
    Goal.CROSS_SELL: re.compile(
        r"pair|goes? (?:well )?with|complete|match|you might|also like|perfect (?:for|with)|deserve|for your|"
        r"together|as a set|搭|配|也许|适合|一起"
    ),
    Goal.REPLENISH: re.compile(
        r"running low|restock|refill|replace|time (?:for|to)|stock up|top up|补货|补充|该换|续购|用完"
    ),
    Goal.LOYALTY: re.compile(r"thank|member|points|loyal|reward|vip|anniversary|感谢|会员|积分|回馈|周年|专属"),
    Goal.EVENT_INVITE: re.compile(
        r"join us|invite|event|rsvp|register|save your spot|workshop|邀请|活动|报名|参加|欢迎光临"
    ),
    Goal.OFFER_ANNOUNCEMENT: re.compile(r"%|off\b|offer|sale|code|deal|save|discount|折|优惠|促销|立减|特价"),
}


def check_relevance(variant: Variant, ctx: CheckContext) -> CheckResult:
    """Block wrong language and personalization without consent; flag a draft that misses the brief."""
    fields = copy_fields(variant)
    text = "\n".join(fields.values())
    idx = ctx.facts
    parts: list[CheckResult] = []
    ratio = cjk_ratio(_prose(ctx, text))
    locale = ctx.bundle.customer.locale or ctx.bundle.locale
    if (is_chinese_locale(locale) and ratio < ZH_MIN_RATIO) or (not is_chinese_locale(locale) and ratio > EN_MAX_RATIO):
        parts.append(
            result(
                NAME,
                Verdict.BLOCK,
                "language_mismatch",
                f"Customer locale is {locale!r} but the draft's CJK share is {ratio:.0%}.",
                [Evidence(text=f"{ratio:.2f}", expected=locale, reason_code="language_mismatch")],
                repairable=True,
            )
        )
    parts += _script(ctx, fields, locale)
    first = (ctx.bundle.customer.first_name or "").strip()
    name_used = bool(first) and re.search(rf"(?<!\w){re.escape(first)}(?!\w)", text) is not None
    customer_facts = [fid for fid in variant.fact_ids if fid in idx.customer_fact_ids]
    if not ctx.bundle.personalization_allowed and (customer_facts or name_used):
        evidence = [
            Evidence(field="fact_ids", text=fid, reason_code="personalization_not_allowed") for fid in customer_facts
        ]
        if name_used:
            evidence.append(Evidence(text=first, reason_code="personalization_not_allowed"))
        parts.append(
            result(
                NAME,
                Verdict.BLOCK,
                "personalization_not_allowed",
                "No personalization consent: the draft must not use the customer's own data.",
                evidence,
            )
        )
    wrong = [e for field, value in fields.items() for e in wrong_names(ctx, field, value)]
    if wrong:
        listing = ", ".join(f"'{e.text}'" for e in wrong[:3])
        parts.append(
            result(
                NAME,
                Verdict.BLOCK,
                "wrong_customer_name",
                f"The draft greets {listing}, not the customer ({wrong[0].expected}).",
                wrong,
                repairable=True,
            )
        )
    parts += _brief(variant, ctx, text)
    script = [e for field, value in fields.items() for e in script_flags(idx, ctx, field, value)]
    if script:
        listing = ", ".join(f"'{e.text}'" for e in script[:5])
        parts.append(
            result(
                NAME,
                Verdict.FLAG,
                script[0].reason_code or "foreign_script",
                f"Text in another script than the customer's locale {locale!r}: {listing}.",
                script,
                repairable=True,
            )
        )
    return worst(NAME, parts) if parts else passed(NAME, "Serves the brief in the customer's language.")


def _prose(ctx: CheckContext, text: str) -> str:
    """The text without what keeps its own script whatever the language: product names, codes, prices, links, the
    brand's name ("The 户外保温茶杯 is $29.00" is English; "Featherlite Sleeping Pad 使用优惠码 TRAIL20" is Chinese)."""
    spans = [(m.start, m.end) for m in product_mentions(text, ctx.catalogue, tuple(ctx.facts.product_names))]
    spans += [(c.start, c.end) for c in extract_claims(text) if c.kind in ("code", "price")]
    spans += [(u.start, u.end) for u in find_urls(text)]
    for name in (ctx.bundle.brand.name, ctx.bundle.brand.sender_identity or ""):
        spans += [m.span() for m in re.finditer(re.escape(name), text)] if name.strip() else []
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    prose = "".join(chars)
    return prose if prose.strip() else text


def _script(ctx: CheckContext, fields: dict[str, str], locale: str) -> list[CheckResult]:
    """Traditional characters in Simplified Chinese copy; French, Spanish, German … in English copy."""
    evidence: list[Evidence] = []
    names = tuple(ctx.facts.product_names)
    for field, value in fields.items():
        if is_chinese_locale(locale):
            keep = [(m.start, m.end) for m in product_mentions(value, ctx.catalogue, names)]
            evidence += [
                Evidence(field=field, start=a, end=b, text=value[a:b], reason_code="language_mismatch", expected=locale)
                for a, b in traditional_spans(value, locale, keep)
            ]
        elif locale.lower().startswith("en") and (lang := other_latin_language(value)) is not None:
            evidence.append(
                Evidence(
                    field=field, text=value[:60], reason_code="language_mismatch", expected=f"{locale}, not {lang}"
                )
            )
    if len(evidence) < 2 and not any(e.start is None for e in evidence):
        return []  # one traditional character may be a name's
    shown = "".join(e.text or "" for e in evidence[:8])
    return [
        result(
            NAME,
            Verdict.BLOCK,
            "language_mismatch",
            f"Customer locale is {locale!r} but the draft is written in another language or script: {shown!r}.",
            evidence,
            repairable=True,
        )
    ]


def _engages_facts(variant: Variant, ctx: CheckContext, text: str) -> bool:
    """Whether the draft says something from the facts (a product, an offer, a price or code), whatever words
    it uses for the goal."""
    known = ctx.bundle.ids()
    if any(fid in known and not fid.startswith("profile:") for fid in variant.fact_ids):
        return True
    if product_mentions(text, ctx.catalogue, tuple(ctx.facts.product_names)):
        return True
    return any(c.kind in ("code", "percent", "price", "benefit") for c in extract_claims(text))


def _brief(variant: Variant, ctx: CheckContext, text: str) -> list[CheckResult]:
    """Flags about the brief, kept for drafts that plainly miss it: good copy rarely uses a fixed word list, so a
    missing goal word counts only when the draft also says nothing from the facts."""
    if ctx.brief is None:
        return []
    out: list[CheckResult] = []
    goal = ctx.brief.goal
    if not GOAL_WORDS[goal].search(text.lower()) and not _engages_facts(variant, ctx, text):
        out.append(
            result(
                NAME,
                Verdict.FLAG,
                "off_brief",
                f"Nothing in the draft speaks to the goal '{goal.value}' or uses a fact.",
                [Evidence(text=text[:80], expected=f"the goal {goal.value}", reason_code="off_brief")],
            )
        )
    wanted = [ctx.bundle.fact(f"offer:{o}") for o in ctx.brief.offer_ids]
    offers = [f for f in wanted if f is not None]
    upper = text.upper()
    claims = extract_claims(text)

    def used(fact_id: str, code: str | None, pct: object) -> bool:
        return (
            fact_id in variant.fact_ids
            or (code is not None and code.upper() in upper)
            or any(c.kind == "percent" and c.value == pct for c in claims)
        )

    if ctx.brief.offer_ids and not any(used(f.id, f.values.code, f.values.discount_percent) for f in offers):
        missing = ", ".join(ctx.brief.offer_ids)
        out.append(
            result(
                NAME,
                Verdict.FLAG,
                "brief_offer_missing",
                f"The brief's offers {missing} are not used.",
                [Evidence(field="fact_ids", expected=missing, reason_code="brief_offer_missing")],
            )
        )
    return out
