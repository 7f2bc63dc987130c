"""Laying copy blocks out per channel: candidates from rich to minimal, the first that fits wins.

Facts are only ever placed as whole sentences, never cut: a candidate that does not fit is dropped, and a
shorter one (with fewer sentences) is tried. Nothing is truncated; when even the shortest candidate is too
long (an extremely long brand name), it is returned as is and the channel guardrail reports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from copyloom.contracts.enums import Channel
from copyloom.contracts.text import display_width
from copyloom.contracts.variants import (
    EmailContent,
    InAppContent,
    PushContent,
    SmsContent,
    WebContent,
    WhatsAppContent,
    _Content,
)
from copyloom.genai.limits import FIELD_LIMITS, opt_out_text, sms_segments

__all__ = ["Copy", "Style", "compose", "parse_copy"]

PREHEADER_MIN_COLUMNS = 30  # shorter leaves the inbox line to the body's first words (the channel check's default)
_END = ("。", "？", "！", ".", "?", "!", "，", ",")
_EMOJI = {
    "win_back": "👋",
    "cross_sell": "🛍️",
    "replenish": "🔁",
    "loyalty": "🌟",
    "event_invite": "📅",
    "offer_announcement": "🏷️",
}


@dataclass(frozen=True)
class Copy:
    """One angle's rendered copy blocks (slot → text); ``facts`` are the fact sentences in focus order, ``must``
    those of them the brief asked to feature."""

    slots: dict[str, str]
    facts: list[str]
    must: list[str] = field(default_factory=list)

    def get(self, slot: str) -> str:
        return self.slots.get(slot, "")


@dataclass(frozen=True)
class Style:
    locale: str
    brand: str
    goal: str
    shorten: int = 0  # skip this many of the richest candidates
    max_exclamations: int = 1
    emoji: bool = False
    banned: tuple[str, ...] = field(default_factory=tuple)
    max_sms_segments: int = 2

    @property
    def zh(self) -> bool:
        return self.locale.lower().startswith("zh")


def parse_copy(rendered: str, lead: tuple[str, ...] = ()) -> Copy | None:
    """Slots of the rendered blocks; ``lead`` puts those fact slots first (what the brief asked to feature)."""
    slots: dict[str, str] = {}
    for line in rendered.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.isidentifier() and value.strip():
            slots[key] = value.strip()
    if "angle" not in slots:
        return None
    focus = slots.get("focus", "").split()
    focus = [k for k in focus if k in lead] + [k for k in focus if k not in lead]
    facts = [slots[k] for k in focus if slots.get(k)]
    return Copy(slots=slots, facts=facts, must=[slots[k] for k in focus if k in lead and slots.get(k)])


def _join(parts: list[str], zh: bool) -> str:
    out = ""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if out and not out.endswith(_END):
            out += "。" if zh else "."
        out += part if (zh or not out) else " " + part
    return out


def _limit_exclamations(text: str, budget: list[int]) -> str:
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch in "!！":
            if budget[0] > 0:
                budget[0] -= 1
            else:
                chars[i] = "。" if ch == "！" else "."
    return "".join(chars)


def _banned(text: str, style: Style) -> bool:
    low = text.lower()
    return any(b and b.lower() in low for b in style.banned)


def _keeps(copy: Copy) -> tuple[Callable[[str], bool], ...]:
    """What a message body keeps, most wanted first: every fact the brief named, else one fact at least. Without
    them a short body is only the angle's line, which says nothing (or promises what it does not show)."""
    named = tuple(copy.must)
    one = tuple(copy.facts)
    return (
        *((lambda s: all(m in s for m in named)),) * bool(named),
        *((lambda s: any(f in s for f in one)),) * bool(one),
    )


def _choose(
    options: list[str], fits: Callable[[str], bool], style: Style, keeps: tuple[Callable[[str], bool], ...] = ()
) -> str:
    """The richest option that fits and is not banned; ``shorten`` steps to strictly shorter fitting ones, never
    to one that loses what ``keeps`` asks for (the first of them that any fitting option satisfies)."""
    options = [o for o in dict.fromkeys(options) if o]
    if not options:
        return ""
    fitting = [o for o in options if fits(o) and not _banned(o, style)]
    for keep in keeps:
        kept = [o for o in fitting if keep(o)]
        if kept:
            fitting = kept
            break
    if not fitting:  # nothing fits: the last (shortest) option that is not banned; the guardrail reports it
        allowed = [o for o in options if not _banned(o, style)]
        return (allowed or options)[-1]
    chosen = fitting[0]
    for _ in range(style.shorten):
        shorter = [o for o in fitting if len(o) < len(chosen)]
        if not shorter:
            break
        chosen = shorter[0]
    return chosen


def has_banned(text: str, style: Style) -> bool:
    return _banned(text, style)


def _fit_len(limit: int) -> Callable[[str], bool]:
    return lambda s: len(s) <= limit


def _fit_width(limit: int) -> Callable[[str], bool]:
    """For screen slots, measured in display columns as the guardrail does (a Chinese character takes two)."""
    return lambda s: display_width(s) <= limit


def _sms(copy: Copy, style: Style) -> SmsContent:
    prefix = f"【{style.brand}】" if style.zh else f"{style.brand}: "
    tail = opt_out_text(style.locale)
    title, short, line, f = copy.get("title"), copy.get("title_short"), copy.get("line"), copy.facts
    bodies = [
        _join([title, line, *f[:2]], style.zh),
        _join([title, *f[:2]], style.zh),
        _join([title, *f[:1]], style.zh),
        _join([short, *f[:1]], style.zh),
        _join(f[:1], style.zh),
        _join([title, line], style.zh),
        _join([short], style.zh),
    ]
    texts = [f"{prefix}{b}{'' if style.zh else ' '}{tail}" for b in bodies if b]
    text = _choose(texts, lambda s: sms_segments(s).segments <= style.max_sms_segments, style, _keeps(copy))
    return SmsContent(text=text)


def _short_bodies(copy: Copy, zh: bool) -> list[str]:
    f, line = copy.facts, copy.get("line")
    return [
        _join([line, *f[:2]], zh),
        _join(f[:2], zh),
        _join([line, *f[:1]], zh),
        _join(f[:1], zh),
        _join([line], zh),
    ]


def _titles(copy: Copy) -> list[str]:
    return [copy.get("title"), copy.get("title_short")]


def compose(channel: Channel, copy: Copy, style: Style, *, whatsapp_template_only: bool = False) -> _Content:
    """The content of ``channel`` built from ``copy``, within the channel's limits where at all possible."""
    lim = FIELD_LIMITS.get(channel, {})
    budget = [style.max_exclamations]

    def ex(text: str) -> str:  # one exclamation budget shared by every field of the message
        return _limit_exclamations(text, budget)

    zh = style.zh
    if channel is Channel.SMS:
        sms = _sms(copy, style)
        return SmsContent(text=ex(sms.text))
    if channel is Channel.EMAIL:
        subject = _choose(_titles(copy), _fit_width(lim["subject"]), style)
        line = copy.get("line")
        options = [line, *copy.facts, *(_join([line, f], zh) for f in copy.facts)]
        fits = _fit_width(lim["preheader"])
        wide = [o for o in options if o and display_width(o) >= PREHEADER_MIN_COLUMNS and fits(o)]
        preheader = _choose(wide or options, fits, style)  # shortening never goes below the minimum
        paragraphs = [
            [copy.get("greeting"), _join([copy.get("line")], zh), _join(copy.facts, zh), copy.get("signoff")],
            [copy.get("greeting"), _join([copy.get("line"), *copy.facts[:1]], zh), copy.get("signoff")],
        ]
        bodies = ["\n\n".join(p for p in ps if p) for ps in paragraphs]
        body = _choose(bodies, _fit_len(lim["body"]), style, _keeps(copy))
        cta = _choose([copy.get("cta")], _fit_width(lim["cta_text"]), style)
        return EmailContent(subject=ex(subject), preheader=ex(preheader), body=ex(body), cta_text=ex(cta))
    if channel is Channel.PUSH:
        title = _choose(_titles(copy), _fit_width(lim["title"]), style)
        emoji = _EMOJI.get(style.goal)
        if style.emoji and emoji and display_width(title) + 2 <= lim["title"]:
            title = f"{title} {emoji}"
        body = _choose(_short_bodies(copy, zh), _fit_width(lim["body"]), style, _keeps(copy))
        return PushContent(title=ex(title), body=ex(body))
    if channel in (Channel.IN_APP, Channel.WEB):
        title_limit = lim["title"] if channel is Channel.IN_APP else lim["headline"]
        body_limit = lim["body"] if channel is Channel.IN_APP else lim["subhead"]
        title = _choose(_titles(copy), _fit_width(title_limit), style)
        body = _choose(_short_bodies(copy, zh), _fit_width(body_limit), style, _keeps(copy))
        cta = _choose([copy.get("cta")], _fit_width(lim["cta_text"]), style)
        if channel is Channel.IN_APP:
            return InAppContent(title=ex(title), body=ex(body), cta_text=ex(cta))
        return WebContent(headline=ex(title), subhead=ex(body), cta_text=ex(cta))
    return _whatsapp(copy, style, ex, whatsapp_template_only)


def _whatsapp(copy: Copy, style: Style, ex: Callable[[str], str], template_only: bool) -> WhatsAppContent:
    zh = style.zh
    var_limit = FIELD_LIMITS[Channel.WHATSAPP]["template_variable"]
    if template_only:
        name = f"{style.goal}_{style.locale.lower().replace('-', '_')}"
        variables = {
            "headline": _choose(_titles(copy), _fit_len(var_limit), style),
            "details": _choose([*copy.facts, copy.get("line")], _fit_len(var_limit), style, _keeps(copy)),
        }
        return WhatsAppContent(template_name=name, template_variables={k: ex(v) for k, v in variables.items() if v})
    brand_line = f"{style.brand}" if zh else f"— {style.brand}"
    bodies = [
        [copy.get("greeting"), _join([copy.get("line"), *copy.facts], zh), brand_line],
        [copy.get("greeting"), _join([copy.get("line"), *copy.facts[:1]], zh), brand_line],
    ]
    texts = ["\n\n".join(p for p in b if p) + "\n\n" + opt_out_text(style.locale) for b in bodies]
    text = _choose(texts, _fit_len(FIELD_LIMITS[Channel.WHATSAPP]["text"]), style, _keeps(copy))
    return WhatsAppContent(text=ex(re.sub(r"\n{3,}", "\n\n", text)))
