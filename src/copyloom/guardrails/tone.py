"""Tone and brand: banned phrases and Chinese superlatives, exclamations, emoji, shouting, deceptive subjects,
profanity and competitor names. Limits come from the brand kit."""

from __future__ import annotations

import re
from itertools import pairwise

import regex

from copyloom.contracts.text import copy_fields
from copyloom.contracts.variants import Variant
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.lexicon import phrases, urgency, zh_profanity, zh_superlatives
from copyloom.guardrails.products import product_mentions
from copyloom.guardrails.profanity import profanity_probability
from copyloom.guardrails.results import passed, result
from copyloom.guardrails.types import CheckResult, Evidence, Verdict

NAME = "tone"
PROFANITY_BLOCK = 0.9
PROFANITY_FLAG = 0.75
EMOJI_SPARINGLY_MAX = 2
_EMOJI = regex.compile(r"\p{Extended_Pictographic}")
_FAKE_REPLY = re.compile(r"^\s*(?:re|fwd?|aw|wg|tr)\s*[:：]|^\s*(?:回复|转发)\s*[:：]", re.IGNORECASE)
_CAPS_WORD = re.compile(r"(?<![\w-])[A-Z]{3,}(?![\w-])")
_CASUAL = re.compile(r"\b(?:hey+|gonna|wanna|gotta|lol|omg|ya|yo|dude|awesome sauce)\b", re.IGNORECASE)
_SUBJECT_FIELDS = ("subject", "title", "headline")
_ALLOWED_CAPS = frozenset({"STOP", "HELP", "USA", "FAQ", "VIP", "SMS", "USD", "EUR", "GBP", "CNY", "RMB", "NEW"})


def _ev(field: str, start: int, end: int, text: str, code: str, expected: str | None = None) -> Evidence:
    return Evidence(field=field, start=start, end=end, text=text, reason_code=code, expected=expected)


def _urgency_supported(ctx: CheckContext) -> bool:
    """Urgency is honest only when an offer in the bundle ends within a week of the send."""
    idx = ctx.facts
    return any(w.end is not None and 0 <= (w.end - ctx.send_at).total_seconds() <= 7 * 86400 for w in idx.windows)


def _subject_rules(ctx: CheckContext, field: str, text: str) -> list[Evidence]:
    out: list[Evidence] = []
    m = _FAKE_REPLY.match(text)
    if m:
        out.append(_ev(field, m.start(), m.end(), m.group(0), "deceptive_subject", "no fake RE:/FWD: prefix"))
    soon, ends = _urgency_supported(ctx), _offer_ends_at_all(ctx)
    for h in urgency().finditer(text):
        # "limited time" / "限时" says only that the offer ends: true of any offer with an end date.
        if soon or (h.label.lower() in _LIMITED and ends):
            continue
        expected = "a live offer with an end date" if h.label.lower() in _LIMITED else "an offer ending within 7 days"
        out.append(_ev(field, h.start, h.end, h.text, "unsupported_urgency", expected))
    return out


_LIMITED = frozenset({"limited time", "限时", "限时优惠", "限时特惠"})


def _offer_ends_at_all(ctx: CheckContext) -> bool:
    idx = ctx.facts
    return any(w.end is not None and w.end >= ctx.send_at for w in idx.windows)


def _shouting(ctx: CheckContext, field: str, text: str, codes: set[str]) -> list[Evidence]:
    brand_tokens = {t.upper() for t in re.findall(r"\w+", ctx.bundle.brand.name)}
    # A product named as the catalogue writes it ("WHITE HANGING HEART T-LIGHT HOLDER") is not shouting.
    names = [(m.start, m.end) for m in product_mentions(text, ctx.catalogue, tuple(ctx.facts.product_names))]
    caps = [
        m
        for m in _CAPS_WORD.finditer(text)
        if m.group(0) not in _ALLOWED_CAPS | brand_tokens | codes
        and not any(a <= m.start() and m.end() <= b for a, b in names)
    ]
    words = re.findall(r"[A-Za-z]{3,}", _blank(text, names))
    if len(caps) >= 2 and (
        len(caps) * 3 >= len(words) or any(re.fullmatch(r"\s+", text[a.end() : b.start()]) for a, b in pairwise(caps))
    ):
        return [_ev(field, caps[0].start(), caps[-1].end(), text[caps[0].start() : caps[-1].end()], "shouting")]
    return []


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    for a, b in spans:
        text = text[:a] + " " * (b - a) + text[b:]
    return text


def check_tone(variant: Variant, ctx: CheckContext) -> CheckResult:
    """Block brand-kit violations and legal problems; flag matters of taste (emoji, exclamations, formality)."""
    brand = ctx.bundle.brand
    fields = copy_fields(variant)
    blocks: list[Evidence] = []
    flags: list[Evidence] = []
    banned = phrases(tuple(brand.banned_phrases))
    competitors = phrases(tuple(brand.competitor_names))
    codes = set(ctx.facts.codes)
    exclamations = 0
    emoji: list[Evidence] = []
    for field, text in fields.items():
        blocks += [_ev(field, h.start, h.end, h.text, "banned_phrase", h.label) for h in banned.finditer(text)]
        blocks += [
            _ev(field, h.start, h.end, h.text, "superlative_zh", h.label) for h in zh_superlatives().finditer(text)
        ]
        blocks += [_ev(field, h.start, h.end, h.text, "competitor_mention") for h in competitors.finditer(text)]
        blocks += [_ev(field, h.start, h.end, h.text, "profanity") for h in zh_profanity().finditer(text)]
        p = profanity_probability(text)
        if p >= PROFANITY_FLAG:
            (blocks if p >= PROFANITY_BLOCK else flags).append(
                _ev(field, 0, len(text), text, "profanity", f"profanity probability {p:.2f}")
            )
        if field.split(".")[0] in _SUBJECT_FIELDS:
            blocks += _subject_rules(ctx, field, text)
        flags += _shouting(ctx, field, text, codes)
        exclamations += text.count("!") + text.count("！")
        emoji += [_ev(field, m.start(), m.end(), m.group(0), "emoji") for m in _EMOJI.finditer(text)]
        if brand.formality == "formal":
            flags += [_ev(field, m.start(), m.end(), m.group(0), "too_casual") for m in _CASUAL.finditer(text)]
    if exclamations > brand.max_exclamations:
        flags.append(
            Evidence(
                reason_code="too_many_exclamations", text=str(exclamations), expected=f"≤ {brand.max_exclamations}"
            )
        )
    if emoji and brand.emoji_policy == "never":
        blocks += emoji
    elif len(emoji) > EMOJI_SPARINGLY_MAX and brand.emoji_policy == "sparingly":
        flags += emoji
    evidence = blocks or flags
    if not evidence:
        return passed(NAME, "On brand.")
    listing = "; ".join(f"{e.reason_code}: '{e.text}'" for e in evidence[:5])
    repairable = all(e.reason_code in {"emoji", "too_many_exclamations", "shouting", "too_casual"} for e in evidence)
    return result(
        NAME,
        Verdict.BLOCK if blocks else Verdict.FLAG,
        evidence[0].reason_code or "tone",
        f"Tone/brand: {listing}.",
        evidence,
        repairable=repairable,
    )
