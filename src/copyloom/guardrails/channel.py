"""Channel rules: SMS segments and required elements, push payload bytes, email subject/preheader/footer,
WhatsApp template limits, in-app and web slots. Numbers come from the brand's policies and ``ChannelLimits``."""

from __future__ import annotations

import json
import re

from copyloom.contracts.brand import BrandKitSpec
from copyloom.contracts.sms import count_segments, normalize_sms
from copyloom.contracts.text import display_width, width_cut
from copyloom.contracts.variants import (
    EmailContent,
    InAppContent,
    PushContent,
    SmsContent,
    Variant,
    WebContent,
    WhatsAppContent,
)
from copyloom.guardrails.context import ChannelLimits, CheckContext
from copyloom.guardrails.results import passed, result, worst
from copyloom.guardrails.types import CheckResult, Evidence, Verdict

NAME = "channel"
UNSUBSCRIBE_PLACEHOLDER = "{{unsubscribe_url}}"
OPT_OUT_RE = re.compile(r"\bSTOP\b|回\s?T\s?退订|退订回\s?T|回复\s?T|退订|unsubscribe", re.IGNORECASE)
FAKE_UNSUBSCRIBE_RE = re.compile(r"unsubscribe|opt[- ]out|退订|取消订阅", re.IGNORECASE)


def render_email_footer(brand: BrandKitSpec) -> str:
    """The CAN-SPAM footer the renderer appends: sender identity, postal address, unsubscribe link slot."""
    lines = [brand.required_footer] if brand.required_footer else []
    lines.append(f"{brand.sender_identity or brand.name}")
    if brand.postal_address:
        lines.append(brand.postal_address)
    lines.append(f"Unsubscribe: {UNSUBSCRIBE_PLACEHOLDER}")
    return "\n".join(lines)


def _too_long(
    field: str, text: str, limit: int, code: str = "too_long", *, by_width: bool = True
) -> CheckResult | None:
    """A field over its limit. Screen slots are measured in display columns (a CJK character takes two);
    WhatsApp's limits are the platform's own, in characters."""
    size = display_width(text) if by_width else len(text)
    if size <= limit:
        return None
    cut = width_cut(text, limit) if by_width else limit
    unit = "columns (a CJK character takes two)" if by_width and size != len(text) else "characters"
    return result(
        NAME,
        Verdict.BLOCK,
        code,
        f"{field} is {size} {unit}; the limit is {limit}.",
        [Evidence(field=field, start=cut, end=len(text), text=text[cut:], expected=f"≤ {limit}", reason_code=code)],
        repairable=True,
    )


def _sms(c: SmsContent, ctx: CheckContext) -> list[CheckResult | None]:
    brand = ctx.bundle.brand
    limit = brand.policies.sms_max_segments
    raw = count_segments(c.text)
    normalized = normalize_sms(c.text)
    norm = raw if normalized == c.text else count_segments(normalized)  # most copy has no smart punctuation
    out: list[CheckResult | None] = []
    if norm.segments > limit:
        out.append(
            result(
                NAME,
                Verdict.BLOCK,
                "sms_too_long",
                f"SMS is {norm.segments} {norm.encoding} segments ({norm.units} units); the limit is {limit}. Shorten it.",
                [Evidence(field="text", text=c.text, expected=f"≤ {limit} segments", reason_code="sms_too_long")],
                repairable=True,
            )
        )
    elif raw.segments > norm.segments or (raw.encoding != norm.encoding):
        smart = "".join(ch for ch in raw.non_gsm if normalize_sms(ch) != ch)
        verdict = Verdict.BLOCK if raw.segments > limit else Verdict.FLAG
        out.append(
            result(
                NAME,
                verdict,
                "sms_smart_punctuation",
                f"Curly quotes/dashes ({smart!r}) force UCS-2 ({raw.segments} segments); use straight ASCII punctuation.",
                [
                    Evidence(
                        field="text", text=smart, expected=normalize_sms(smart), reason_code="sms_smart_punctuation"
                    )
                ],
                repairable=True,
            )
        )
    if brand.name.lower() not in c.text.lower():
        out.append(
            result(
                NAME,
                Verdict.BLOCK,
                "sms_missing_brand",
                f"SMS must name the sender: add '{brand.name}'.",
                repairable=True,
            )
        )
    if not OPT_OUT_RE.search(c.text):
        out.append(
            result(
                NAME,
                Verdict.BLOCK,
                "sms_missing_opt_out",
                "SMS must say how to opt out: add 'Reply STOP to opt out' (Chinese: '回T退订').",
                repairable=True,
            )
        )
    return out


def _push(c: PushContent, lim: ChannelLimits) -> list[CheckResult | None]:
    payload = json.dumps({"aps": {"alert": {"title": c.title, "body": c.body}}}, ensure_ascii=False)
    size = len(payload.encode("utf-8"))
    over = None
    if size > lim.push_payload_max_bytes:
        over = result(
            NAME,
            Verdict.BLOCK,
            "push_payload_too_large",
            f"Push payload is {size} bytes; APNs/FCM allow {lim.push_payload_max_bytes}.",
            repairable=True,
        )
    return [_too_long("title", c.title, lim.push_title_max), _too_long("body", c.body, lim.push_body_max), over]


def _email(c: EmailContent, ctx: CheckContext) -> list[CheckResult | None]:
    lim, brand = ctx.limits, ctx.bundle.brand
    out: list[CheckResult | None] = [
        _too_long("subject", c.subject, lim.email_subject_max),
        _too_long("preheader", c.preheader, lim.email_preheader_max),
        _too_long("cta_text", c.cta_text, lim.email_cta_max),
    ]
    if lim.email_subject_mobile < display_width(c.subject) <= lim.email_subject_max:
        out.append(
            result(
                NAME,
                Verdict.FLAG,
                "subject_truncated_on_mobile",
                f"Subject is {display_width(c.subject)} columns wide; over {lim.email_subject_mobile} is cut on phones.",
                repairable=True,
            )
        )
    # A preheader too short leaves the inbox line to the body's first words. Wide (CJK) characters fill two
    # columns of it, so the minimum is on display width.
    if display_width(c.preheader) < lim.email_preheader_min:
        out.append(
            result(
                NAME,
                Verdict.FLAG,
                "preheader_too_short",
                f"Preheader is {display_width(c.preheader)} columns wide; aim for {lim.email_preheader_min}+.",
                repairable=True,
            )
        )
    m = FAKE_UNSUBSCRIBE_RE.search(c.body)
    if m:
        out.append(
            result(
                NAME,
                Verdict.BLOCK,
                "body_unsubscribe_text",
                "The body must not carry its own unsubscribe text; the renderer appends the real footer.",
                [
                    Evidence(
                        field="body", start=m.start(), end=m.end(), text=m.group(0), reason_code="body_unsubscribe_text"
                    )
                ],
                repairable=True,
            )
        )
    if not (brand.sender_identity or "").strip() or not (brand.postal_address or "").strip():
        out.append(
            result(
                NAME,
                Verdict.BLOCK,
                "missing_sender_identity",
                "The brand kit needs a sender identity and a postal address for the email footer (CAN-SPAM).",
            )
        )
    return out


def _whatsapp(c: WhatsAppContent, ctx: CheckContext) -> list[CheckResult | None]:
    lim = ctx.limits
    if ctx.whatsapp_template_only and not c.template_name:
        return [
            result(
                NAME,
                Verdict.BLOCK,
                "whatsapp_template_required",
                "Outside the 24 h window only an approved template may be sent.",
            )
        ]
    out: list[CheckResult | None] = [_too_long("text", c.text, lim.whatsapp_free_form_max, by_width=False)]
    if c.template_name:
        v = c.template_variables
        out += [
            _too_long("template_variables.header", v.get("header", ""), lim.whatsapp_header_max, by_width=False),
            _too_long("template_variables.body", v.get("body", ""), lim.whatsapp_body_max, by_width=False),
            _too_long("template_variables.footer", v.get("footer", ""), lim.whatsapp_footer_max, by_width=False),
        ]
        buttons = [val for key, val in v.items() if key.startswith("button")]
        if len(buttons) > lim.whatsapp_buttons_max:
            out.append(
                result(
                    NAME, Verdict.BLOCK, "too_many_buttons", f"{len(buttons)} buttons; max {lim.whatsapp_buttons_max}."
                )
            )
        out += [
            _too_long(f"template_variables.button{i}", b, lim.whatsapp_button_text_max, by_width=False)
            for i, b in enumerate(buttons)
        ]
    elif not c.text.strip():
        out.append(result(NAME, Verdict.BLOCK, "empty_message", "WhatsApp message has no text and no template."))
    return out


def check_channel(variant: Variant, ctx: CheckContext) -> CheckResult:
    """Hard platform limits block (repairable when shortening fixes them); soft limits flag."""
    c = variant.content
    lim = ctx.limits
    parts: list[CheckResult | None]
    if c.channel != ctx.channel:
        parts = [
            result(NAME, Verdict.BLOCK, "wrong_channel", f"Draft is for {c.channel}, request is for {ctx.channel}.")
        ]
    elif isinstance(c, SmsContent):
        parts = _sms(c, ctx)
    elif isinstance(c, PushContent):
        parts = _push(c, lim)
    elif isinstance(c, EmailContent):
        parts = _email(c, ctx)
    elif isinstance(c, WhatsAppContent):
        parts = _whatsapp(c, ctx)
    elif isinstance(c, InAppContent):
        parts = [
            _too_long("title", c.title, lim.slot_title_max),
            _too_long("body", c.body, lim.slot_body_max),
            _too_long("cta_text", c.cta_text, lim.slot_cta_max),
        ]
    elif isinstance(c, WebContent):
        parts = [
            _too_long("headline", c.headline, lim.slot_title_max),
            _too_long("subhead", c.subhead, lim.slot_body_max),
            _too_long("cta_text", c.cta_text, lim.slot_cta_max),
        ]
    else:  # pragma: no cover - the union is closed
        parts = []
    found = [p for p in parts if p is not None]
    return worst(NAME, found) if found else passed(NAME, f"Fits the {c.channel} channel.")
