"""Channel limits the generators write within (DOMAIN.md soft defaults), and SMS segment counting.

The guardrails re-check every draft; these numbers let a generator aim inside the limits in the first place
(and let the LLM path re-ask when a model overshoots).
"""

from __future__ import annotations

from dataclasses import dataclass

from copyloom.contracts.enums import Channel
from copyloom.contracts.sms import count_segments
from copyloom.contracts.text import display_width
from copyloom.contracts.variants import SmsContent, WhatsAppContent, _Content

__all__ = [
    "FIELD_LIMITS",
    "OPT_OUT",
    "WIDTH_FIELDS",
    "SmsSegments",
    "content_problems",
    "field_size",
    "opt_out_text",
    "sms_segments",
]

# Max characters per visible field. SMS is limited by segments instead (see sms_segments).
FIELD_LIMITS: dict[Channel, dict[str, int]] = {
    Channel.EMAIL: {"subject": 50, "preheader": 85, "cta_text": 20, "body": 2000},
    Channel.PUSH: {"title": 40, "body": 130},
    Channel.IN_APP: {"title": 40, "body": 140, "cta_text": 20},
    Channel.WEB: {"headline": 40, "subhead": 140, "cta_text": 20},
    Channel.WHATSAPP: {"text": 1024, "template_variable": 60},
}
# Fields shown in a fixed screen slot (lock screen, inbox line, banner): their limits are display columns, in which
# a CJK character takes two, as the channel guardrail measures them. The rest are platform limits in characters.
WIDTH_FIELDS: dict[Channel, frozenset[str]] = {
    Channel.EMAIL: frozenset({"subject", "preheader", "cta_text"}),
    Channel.PUSH: frozenset({"title", "body"}),
    Channel.IN_APP: frozenset({"title", "body", "cta_text"}),
    Channel.WEB: frozenset({"headline", "subhead", "cta_text"}),
}
PREHEADER_MIN = 20  # DOMAIN.md recommends 50-100; shorter is allowed but the prompt asks for more
SMS_MAX_SEGMENTS = 2

OPT_OUT = {"en": "Reply STOP to opt out", "zh": "回T退订"}


def field_size(channel: Channel, name: str, text: str) -> int:
    """How much of ``name``'s limit ``text`` uses: display columns for screen slots, characters otherwise."""
    return display_width(text) if name in WIDTH_FIELDS.get(channel, ()) else len(text)


def opt_out_text(locale: str) -> str:
    return OPT_OUT["zh"] if locale.lower().startswith("zh") else OPT_OUT["en"]


@dataclass(frozen=True)
class SmsSegments:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def sms_segments(text: str) -> SmsSegments:
    """Segments of ``text`` as the channel guardrail counts them (GSM-7 160/153, UCS-2 70/67, whole graphemes)."""
    info = count_segments(text)
    return SmsSegments(info.encoding, info.units, info.segments)


def content_problems(
    content: _Content, *, brand_name: str, locale: str, max_sms_segments: int = SMS_MAX_SEGMENTS
) -> list[str]:
    """Human-readable limit violations of one content (empty when it fits)."""
    problems: list[str] = []
    if isinstance(content, SmsContent):
        seg = sms_segments(content.text)
        if seg.segments > max_sms_segments:
            problems.append(
                f"sms text is {seg.segments} segments ({seg.encoding}, {seg.units} units); "
                f"at most {max_sms_segments} allowed: shorten it"
            )
        if brand_name.lower() not in content.text.lower():
            problems.append(f"sms text must contain the brand name {brand_name!r}")
        if opt_out_text(locale).lower() not in content.text.lower():
            problems.append(f"sms text must contain the opt-out text {opt_out_text(locale)!r}")
        return problems
    if isinstance(content, WhatsAppContent):
        limits = FIELD_LIMITS[Channel.WHATSAPP]
        if not content.text and not content.template_name:
            problems.append("whatsapp needs either text or template_name")
        if len(content.text) > limits["text"]:
            problems.append(f"whatsapp text is {len(content.text)} characters; at most {limits['text']}")
        for key, variable in content.template_variables.items():
            if len(variable) > limits["template_variable"]:
                problems.append(f"template variable {key} exceeds {limits['template_variable']} characters")
        return problems
    channel = Channel(content.channel)  # type: ignore[attr-defined]
    for name, limit in FIELD_LIMITS[channel].items():
        value = getattr(content, name, None)
        if not isinstance(value, str):
            continue
        if not value.strip():
            problems.append(f"{channel.value} {name} is empty")
        elif (size := field_size(channel, name, value)) > limit:
            unit = "characters" if size == len(value) else "columns wide (a Chinese character takes two)"
            problems.append(f"{channel.value} {name} is {size} {unit}; at most {limit} allowed: shorten it")
    return problems
