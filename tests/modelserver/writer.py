"""Lay plans out in the channel's fields within the limits the prompt states, and plant errors on request.

Limits are the prompt's, in characters (for Chinese the prompt already halves screen-slot limits). Sentences are
placed whole or not at all; nothing is cut. SMS aims at the prompt's character hint, and at 130 characters as
soon as one character is not plain ASCII (UCS-2: 67 per segment).
"""

from __future__ import annotations

import random
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from tests.modelserver.angles import Piece, Plan, plan_variants
from tests.modelserver.config import PlantKind
from tests.modelserver.prompt import Field, PromptInfo

__all__ = ["write_variants"]

_UCS2_CHARS = 130
_GSM_EXTENSION = set("^{}\\[]~|€")
_TITLE_FIELDS = {"subject", "title", "headline"}
_SHORT_BODY = {"body", "subhead", "preheader"}
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z]{5,}")
_PLAIN_NAME = re.compile(r"^[\w -]+$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_ZH_SPACES = re.compile(r" (?=[，。？！、：；」）])|(?<=[，。？！、：；「（]) ")


def _width(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))


def _size(text: str, f: Field) -> int:
    """What counts against ``f``'s limit: columns for a screen slot, characters otherwise."""
    return _width(text) if f.width else len(text)


def _cap(f: Field, zh: bool) -> int | None:
    """``f``'s limit in the unit ``_size`` measures (the prompt states Chinese slots in characters, half the columns)."""
    if f.max_chars is None:
        return None
    return f.max_chars * 2 if zh and f.width else f.max_chars


def _fits(text: str, f: Field, zh: bool) -> bool:
    cap = _cap(f, zh)
    return (cap is None or _size(text, f) <= cap) and len(text) >= f.min_chars


def _title(plan: Plan, f: Field, zh: bool) -> tuple[str, tuple[str, ...]]:
    # A subject line should render whole on a phone: at most 70% of the limit if it can, else what fits.
    limits = [f]
    if f.name == "subject" and f.max_chars:
        limits.insert(0, Field(f.name, int(f.max_chars * 0.7), width=f.width))
    for limit in limits:
        for piece in plan.titles:
            text = _tidy(piece.text, zh)
            if _fits(text, limit, zh):
                return text, piece.ids
    shortest = min(plan.titles, key=lambda p: len(p.text))
    return _tidy(shortest.text, zh), shortest.ids


def _pack(pieces: list[Piece], f: Field, zh: bool) -> list[Piece]:
    """Greedy: each piece in order if the text still fits (the first ones matter most)."""
    chosen: list[Piece] = []
    for p in pieces:
        if _fits(_joined([*chosen, p], zh)[0], Field(f.name, f.max_chars, 0, f.width), zh):
            chosen.append(p)
    return chosen


def _order(plan: Plan) -> list[Piece]:
    head = [plan.planted] if plan.planted else []
    return [*head, plan.main, plan.hook, *plan.extras]


def _tidy(text: str, zh: bool) -> str:
    if not zh:
        return text.strip()
    # Chinese: spaces only around Latin words, never doubled, at the ends or next to Chinese punctuation.
    return _ZH_SPACES.sub("", re.sub(r" {2,}", " ", text)).strip()


def _joined(pieces: list[Piece], zh: bool) -> tuple[str, tuple[str, ...]]:
    text = ("" if zh else " ").join(p.text for p in pieces)
    return _tidy(text, zh), tuple(i for p in pieces for i in p.ids)


def _short_body(plan: Plan, f: Field, zh: bool) -> tuple[str, tuple[str, ...]]:
    pieces = _order(plan)
    if f.name == "preheader":  # adds to the subject: the hook and the extras first, then the point or its title
        punct = "。" if zh else "."
        pieces = [p for p in pieces if p is not plan.main] + [plan.main, Piece(plan.short.text + punct, plan.short.ids)]
    return _joined(_pack(pieces, f, zh), zh)


def _email_body(plan: Plan, info: PromptInfo) -> tuple[str, tuple[str, ...]]:
    zh = info.language == "zh"
    greet = (f"{info.name}，你好。" if zh else f"Hi {info.name},") if info.name else ("你好。" if zh else "Hello,")
    pieces = _order(plan)
    first, ids1 = _joined(pieces[:2], zh)
    rest, ids2 = _joined(pieces[2:], zh)
    cta = f"点击「{plan.cta}」了解更多。" if zh else f'Tap "{plan.cta}" to find out more.'
    sign = f"{info.brand}团队" if zh else f"The {info.brand} team"
    body = "\n\n".join(x for x in (greet, first, rest, cta, sign) if x)
    return body, ids1 + ids2


def _sms_budget(text: str, hint: int | None) -> int:
    plain = text.isascii() and not (_GSM_EXTENSION & set(text))
    return min(hint or 300, 300) if plain else _UCS2_CHARS


def _sms(plan: Plan, info: PromptInfo) -> tuple[str, tuple[str, ...]]:
    zh = info.language == "zh"
    opt_out = info.opt_out or ("回T退订" if zh else "Reply STOP to opt out")
    brand = f"{info.brand}：" if zh else f"{info.brand}: "
    greeting = (f"{info.name}，你好。" if zh else f"Hi {info.name}. ") if info.name else ""
    tail = opt_out if zh else f" {opt_out}"
    best: tuple[str, tuple[str, ...]] = ("", ())
    most = (False, -1)
    order = _order(plan)
    hook_first = (
        [p for p in order if p is plan.planted] + [plan.hook] + [p for p in order if p not in (plan.planted, plan.hook)]
    )
    # Without the greeting, or with the goal's sentence first, if that says more: the goal, then the most sentences.
    for head in dict.fromkeys((brand + greeting, brand)):
        for pieces in (order, hook_first):
            chosen: list[Piece] = []
            for p in pieces:
                trial = head + _joined([*chosen, p], zh)[0] + tail
                if len(trial) <= _sms_budget(trial, info.sms_chars):
                    chosen.append(p)
            score = (plan.hook in chosen, len(chosen))
            if score > most:
                body, ids = _joined(chosen, zh)
                best, most = (head + body + tail, ids), score
    return best


def _whatsapp(plan: Plan, info: PromptInfo, f: Field) -> tuple[str, tuple[str, ...]]:
    zh = info.language == "zh"
    greet = (f"{info.name}，你好。" if zh else f"Hi {info.name}, ") if info.name else ""
    opt_out = info.opt_out or ("回T退订" if zh else "Reply STOP to opt out")
    sign = f"—— {info.brand}。{opt_out}" if zh else f"- {info.brand}. {opt_out}"
    room = Field(f.name, (f.max_chars or 1024) - len(greet) - len(sign) - 1)
    body, ids = _joined(_pack(_order(plan), room, zh), zh)
    return f"{greet}{body}\n{sign}", ids


def _template_variables(plan: Plan, info: PromptInfo) -> tuple[dict[str, str], tuple[str, ...]]:
    limit = info.template_var_max
    point = plan.planted or plan.main
    values = [info.name or info.brand, _tidy(point.text, info.language == "zh"), plan.cta]
    out = {str(i): v for i, v in enumerate(values, start=1) if len(v) <= limit}
    return out, (point.ids if out.get("2") else ())


def _cta(plan: Plan, f: Field, zh: bool) -> str:
    return plan.cta if _fits(plan.cta, f, zh) else plan.cta[: f.max_chars or 20]


def _content(plan: Plan, info: PromptInfo) -> tuple[dict[str, Any], set[str]]:
    channel = info.channel or ""
    zh = info.language == "zh"
    content: dict[str, Any] = {"channel": channel} if channel else {}
    ids: set[str] = set()
    for f in info.fields:
        text: str | None
        used: tuple[str, ...] = ()
        if f.name == "template_name":
            text = info.template_name
        elif channel == "whatsapp" and f.name == "text":
            text, used = ("", ()) if info.template_name else _whatsapp(plan, info, f)
        elif channel == "sms" and f.name == "text":
            text, used = _sms(plan, info)
        elif channel == "email" and f.name == "body":
            text, used = _email_body(plan, info)
        elif f.name in _TITLE_FIELDS:
            text, used = _title(plan, f, zh)
        elif f.name == "cta_text":
            text = _cta(plan, f, zh)
        elif f.name in _SHORT_BODY:
            text, used = _short_body(plan, f, zh)
        elif f.max_chars is not None and f.max_chars <= 20:  # a field this schema adds: sized by its limit
            text = _cta(plan, f, zh)
        elif f.max_chars is not None and f.max_chars <= 60:
            text, used = _title(plan, f, zh)
        else:
            text, used = _short_body(plan, f, zh)
        content[f.name] = text
        ids.update(used)
    if channel == "whatsapp":
        variables, used = _template_variables(plan, info) if info.template_name else ({}, ())
        content["template_variables"] = variables
        ids.update(used)
    return content, ids


def _bump_price(written: str, taken: set[str]) -> str | None:
    m = _NUMBER.search(written)
    if m is None:
        return None
    try:
        value = Decimal(m.group(0).replace(",", ""))
    except InvalidOperation:
        return None
    wrong = (value * Decimal("1.1") + 1).quantize(Decimal("0.01"))
    while f"{wrong:.2f}" in taken:
        wrong += 1
    return written[: m.start()] + f"{wrong:.2f}" + written[m.end() :]


def _near_miss(name: str) -> str:
    """A product name that is not in the facts but one letter away from one that is ("Pegasus 41" for
    "Pegasus 40"): the second-to-last letter of the first long word, or the last character of a Chinese name."""
    if m := _WORD.search(name):
        w = m.group(0)
        letter = "a" if w[-2] != "a" else "e"
        return name[: m.start()] + w[:-2] + letter + w[-1] + name[m.end() :]
    return name[:-1] + ("包" if name[-1] != "包" else "袋")


def _plant(plan: Plan, info: PromptInfo, kinds: list[PlantKind], rng: random.Random) -> None:
    zh = info.language == "zh"
    priced = [p for p in info.products if p.price]
    options = [k for k in kinds if k is not PlantKind.PRICE or priced]
    options = [k for k in options if k is not PlantKind.PRODUCT or info.products]
    if not options:
        return
    kind = rng.choice(options)
    if kind is PlantKind.PRICE:
        p = rng.choice(priced)
        taken = set(_NUMBER.findall(info.text))
        wrong = _bump_price(p.price or "", taken) or "9999.00 USD"
        named = p.name if _CJK.search(p.name) else f" {p.name} "
        text, value = (f"{named}现价{wrong}。" if zh else f"The {p.name} is now {wrong}."), wrong
        ids: tuple[str, ...] = (p.fact_id,)
    elif kind is PlantKind.CODE:
        value = f"EXTRA{rng.randrange(10, 99)}"
        while value in info.text:
            value += "X"
        text, ids = (f"使用优惠码{value}再享优惠。" if zh else f"Use code {value} at checkout."), ()
    else:
        plain = [p for p in info.products if _PLAIN_NAME.match(p.name)]  # names the near-miss rules read whole
        value = _near_miss(rng.choice(plain or info.products).name)
        spaced = value if _CJK.search(value) else f" {value} "
        text, ids = (f"新品{spaced}已上架。" if zh else f"Try the new {value}."), ()
    plan.planted = Piece(text, ids)
    plan.plant_record = {"kind": kind.value, "value": value}


def write_variants(
    info: PromptInfo, rng: random.Random, plant_rate: float, plant_kinds: list[PlantKind]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The tool call's arguments ``{"variants": [...]}`` and the errors planted in them (variant index, kind)."""
    variants: list[dict[str, Any]] = []
    planted: list[dict[str, str]] = []
    for i, plan in enumerate(plan_variants(info, rng)):
        if plant_rate and rng.random() < plant_rate:
            _plant(plan, info, plant_kinds, rng)
            if plan.plant_record:
                planted.append({"variant": str(i), **plan.plant_record})
        content, ids = _content(plan, info)
        cited = [fid for fid in dict.fromkeys(ids) if fid not in info.untrusted_ids]
        variants.append({"angle": plan.angle, "fact_ids": cited, "content": content})
    return {"variants": variants}, planted
