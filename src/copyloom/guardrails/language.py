"""Script of the copy: text in another script than the customer's locale, beyond product names, codes, links
and the brand's name, and products named in another script when the bundle names them in the locale's."""

from __future__ import annotations

import re

from copyloom.contracts.text import CJK_RE, is_chinese_locale
from copyloom.guardrails.claims import extract_claims
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.extract import find_urls
from copyloom.guardrails.facts_index import FactsIndex
from copyloom.guardrails.products import product_mentions
from copyloom.guardrails.types import Evidence

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Latin words Chinese copy uses as its own (回T退订, T恤, App, VIP, Wi-Fi, OK, DIY, logo).
ZH_LATIN_OK = frozenset(
    {"t", "app", "apps", "vip", "wifi", "wi-fi", "ok", "diy", "logo", "stop", "sms", "pk", "led", "usb", "id"}
    | {"ktv", "ceo", "ip", "ps", "pc", "tv", "dj", "mv", "kol", "plus", "pro", "max", "mini", "s", "m", "l", "xl"}
    | {"xxl", "xs", "cm", "mm", "kg", "g", "ml", "km", "h", "am", "pm", "vs", "q", "a", "b", "c", "d", "x"}
)


def _covered(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b for a, b in spans)


def script_flags(idx: FactsIndex, ctx: CheckContext, field: str, text: str) -> list[Evidence]:
    locale = ctx.bundle.customer.locale or ctx.bundle.locale
    zh = is_chinese_locale(locale)
    mentions = product_mentions(text, ctx.catalogue, tuple(idx.product_names))
    keep = [(m.start, m.end) for m in mentions]
    keep += [(c.start, c.end) for c in extract_claims(text) if c.kind in ("code", "price")]
    keep += [(u.start, u.end) for u in find_urls(text)] + [m.span() for m in _EMAIL.finditer(text)]
    brand = ctx.bundle.brand
    own = (brand.name, brand.sender_identity or "", ctx.bundle.customer.first_name or "")
    brand_words = {w.lower() for n in own for w in re.findall(r"\w+", n)}
    out: list[Evidence] = []
    if zh:
        for m in _LATIN_WORD.finditer(text):
            word = m.group(0).lower()
            if word in ZH_LATIN_OK or word in brand_words or _covered(m.start(), m.end(), keep):
                continue
            out.append(
                Evidence(
                    field=field,
                    start=m.start(),
                    end=m.end(),
                    text=m.group(0),
                    reason_code="foreign_script",
                    expected=locale,
                )
            )
    else:
        for m in _CJK_RUN.finditer(text):
            if m.group(0).lower() in brand_words:
                continue
            code = "product_not_in_locale_name" if _covered(m.start(), m.end(), keep) else "foreign_script"
            out.append(
                Evidence(field=field, start=m.start(), end=m.end(), text=m.group(0), reason_code=code, expected=locale)
            )
    # A product the bundle also names in the locale's script (same sku) is named that way.
    for p in mentions:
        if not p.exact:
            continue
        refs = idx.products.get(" ".join(p.name.lower().split()), ())
        skus = {r.sku for r in refs if r.sku}
        local = [
            r.name
            for group in idx.products.values()
            for r in group
            if r.sku in skus and bool(CJK_RE.search(r.name)) == zh and r.name != p.name
        ]
        if local and bool(CJK_RE.search(p.text)) != zh:
            out.append(
                Evidence(
                    field=field,
                    start=p.start,
                    end=p.end,
                    text=p.text,
                    reason_code="product_not_in_locale_name",
                    expected=local[0],
                )
            )
    return out
