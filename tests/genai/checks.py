"""Independent checks of generated variants (limits written out here, not imported from the generator)."""

from __future__ import annotations

import re
import unicodedata

from copyloom.contracts.enums import Channel
from copyloom.contracts.facts import FactsBundle
from copyloom.contracts.sms import count_segments
from copyloom.contracts.variants import CONTENT_MODELS, Variant

# Screen-slot limits, in display columns: a CJK (wide) character takes two.
LIMITS = {
    "email": {"subject": 50, "preheader": 85, "cta_text": 20},
    "push": {"title": 40, "body": 130},
    "in_app": {"title": 40, "body": 140, "cta_text": 20},
    "web": {"headline": 40, "subhead": 140, "cta_text": 20},
}
_MONEY = re.compile(r"[$€£¥]\d[\d,]*(?:\.\d+)?")
_PERCENT = re.compile(r"\d+(?:\.\d+)?%")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CODE = re.compile(r"\b[A-Z][A-Z0-9]{3,}\b")


def allowed_values(bundle: FactsBundle) -> set[str]:
    """Every string a grounded draft may quote, derived from the bundle's structured values and texts."""
    out: set[str] = set()
    for f in bundle.facts:
        if f.untrusted:
            continue
        v = f.values
        for d in (v.price, v.discount_amount):
            if d is not None:
                out.add(f"{d:.2f}")
        if v.discount_percent is not None:
            out.add(f"{v.discount_percent.normalize():f}%")
        for dt in (v.valid_from, v.valid_to, v.date):
            if dt is not None:
                out.add(dt.date().isoformat())
        if v.code:
            out.add(v.code)
        out.update(re.findall(r"[A-Za-z0-9]+", f.text))  # words of trusted fact texts (names, skus)
        out.update(_DATE.findall(f.text))  # dates the brand wrote (an event's day)
    return out


def problems(variant: Variant, bundle: FactsBundle, channel: Channel, locale: str) -> list[str]:
    out: list[str] = []
    content = variant.content
    CONTENT_MODELS[channel].model_validate(content.model_dump())
    if content.channel != channel.value:
        out.append(f"wrong channel {content.channel}")
    unknown = set(variant.fact_ids) - bundle.ids()
    if unknown:
        out.append(f"unknown fact ids {unknown}")
    untrusted = {f.id for f in bundle.facts if f.untrusted}
    if set(variant.fact_ids) & untrusted:
        out.append("cites a customer-written note")
    fields = content.text_fields()
    for name, limit in LIMITS.get(channel.value, {}).items():
        columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in fields[name])
        if not 0 < columns <= limit:
            out.append(f"{name} takes {columns} columns (limit {limit}): {fields[name]!r}")
    text = "\n".join(v for k, v in fields.items() if k != "channel")
    if channel is Channel.SMS:
        if count_segments(text).segments > 2:
            out.append(f"sms is {count_segments(text)}")
        opt_out = "回T退订" if locale.startswith("zh") else "Reply STOP to opt out"
        if opt_out not in text or bundle.brand.name not in text:
            out.append("sms lacks the brand name or the opt-out")
    allowed = allowed_values(bundle)
    for money in _MONEY.findall(text):
        if money[1:].replace(",", "") not in allowed:
            out.append(f"price {money} is not in the bundle")
    for token in _PERCENT.findall(text) + _DATE.findall(text) + _CODE.findall(text):
        if token not in allowed and token not in bundle.brand.name and token != "STOP":
            out.append(f"{token} is not in the bundle")
    if text.count("!") + text.count("！") > bundle.brand.max_exclamations:
        out.append("too many exclamation marks")
    if not bundle.personalization_allowed and bundle.customer.first_name and bundle.customer.first_name in text:
        out.append("uses the name without personalization consent")
    out += repeated_product_names(variant, bundle)
    return out


def repeated_product_names(variant: Variant, bundle: FactsBundle) -> list[str]:
    """Product names said twice in one field of the copy (a name inside a longer one counts for the longer one)."""
    names = sorted({f.values.product_name for f in bundle.facts if f.values.product_name}, key=len, reverse=True)
    out: list[str] = []
    for field, value in variant.content.text_fields().items():
        rest = value.casefold()
        for name in names:
            key = name.casefold()
            if rest.count(key) > 1:
                out.append(f"{field} names {name!r} {rest.count(key)} times: {value!r}")
            rest = rest.replace(key, "\x00")
    return out
