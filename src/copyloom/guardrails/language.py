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


# Characters written only in Traditional Chinese (their Simplified forms differ): copy for zh-CN, zh-SG or zh-Hans
# in these is in the wrong script.
TRADITIONAL_ONLY = frozenset(
    "會員滿減結時輸價錢貨運費單條碼優專屬門頭與為這們來說請問題發現見體愛樂國際園電話點開關東車書買賣讀寫聽親對應經濟產業務處機構網絡頁廣場館區動態過還進選擇變換轉讓認證記錄後續將從檢驗"
    "號線導購顧無間長復興韓歡禮贈紅綠藍銀鐵鋼錶鏡戰麵飯湯雞魚鳥龍風雲腦視頻聲響顯標準備註冊帳戶隱約歲數藥醫療診斷壓層疊護膚質襪褲裝帶鍊燈節慶週訂遞達圍內預團隊組織職學習師範擊連鏈贏獎勵"
    "積級鑽鉑寶貝鬆彈輕舊維飾綁絲綢緞纖設計劃賺據稅額詳細複雜簡陽陰雙個隻張嗎麼裡給該幾臺灣傳統紀氣溫熱涼歷農曆葉壺盃閱議論語識試詢談謝評實萬億僅搶總沒錯啟陸獨鮮驚"
)
_SIMPLIFIED_LOCALES = ("zh", "zh-cn", "zh-sg", "zh-hans", "zh-hans-cn", "zh-my")
# Function words and common shop words of other Latin-script languages, none of them an English word: copy for an
# English locale with several of them and fewer English function words is in another language.
_OTHER_LATIN: dict[str, frozenset[str]] = {
    "fr": frozenset(
        [
            "le",
            "les",
            "des",
            "du",
            "et",
            "est",
            "pour",
            "avec",
            "sur",
            "nos",
            "vos",
            "votre",
            "notre",
            "vous",
            "nous",
            "dans",
            "pas",
            "jusqu'au",
            "jusqu'à",
            "au",
            "aux",
            "cette",
            "ces",
            "qui",
            "très",
            "tous",
            "toutes",
            "réduction",
            "livraison",
            "gratuite",
            "offre",
            "profitez",
            "découvrez",
            "désabonner",
            "répondez",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "los",
            "las",
            "del",
            "y",
            "es",
            "para",
            "con",
            "por",
            "nuestro",
            "nuestra",
            "sus",
            "una",
            "hasta",
            "más",
            "envío",
            "gratis",
            "oferta",
            "descuento",
            "aprovecha",
            "compra",
            "responde",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "das",
            "und",
            "ist",
            "mit",
            "für",
            "auf",
            "dem",
            "ein",
            "eine",
            "nicht",
            "sie",
            "wir",
            "bis",
            "zum",
            "zur",
            "jetzt",
            "rabatt",
            "versandkostenfrei",
            "unsere",
            "ihre",
        ]
    ),
    "it": frozenset(
        ["il", "gli", "della", "di", "è", "fino", "sconto", "spedizione", "gratuita", "nostri", "approfitta"]
    ),
    "pt": frozenset(["os", "não", "você", "seu", "sua", "frete", "grátis", "desconto", "até", "nossa", "aproveite"]),
}
_ENGLISH = frozenset(
    [
        "the",
        "and",
        "is",
        "are",
        "for",
        "with",
        "on",
        "your",
        "our",
        "you",
        "to",
        "of",
        "off",
        "until",
        "get",
        "now",
        "this",
        "that",
        "in",
        "at",
        "by",
        "from",
        "it",
        "we",
        "all",
        "more",
    ]
)
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:['’][A-Za-zÀ-ÿ]+)?")


def traditional_spans(text: str, locale: str, keep: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Traditional-only characters in copy for a Simplified Chinese locale, outside ``keep`` (product names)."""
    if locale.lower().replace("_", "-") not in _SIMPLIFIED_LOCALES:
        return []
    return [(i, i + 1) for i, ch in enumerate(text) if ch in TRADITIONAL_ONLY and not _covered(i, i + 1, keep)]


def other_latin_language(text: str) -> str | None:
    """The other Latin-script language ``text`` is written in (fr, es, de, it, pt), or None for English."""
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    english = sum(w in _ENGLISH for w in words)
    counts = {lang: sum(w in vocab for w in words) for lang, vocab in _OTHER_LATIN.items()}
    lang, n = max(counts.items(), key=lambda kv: kv[1])
    return lang if n >= 3 and n > english else None


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
            if word in ZH_LATIN_OK or word in brand_words or m.group(0).upper() in idx.codes:
                continue  # an offer's code ("输入BAOYOU") or a sku is written as the brand wrote it
            if _covered(m.start(), m.end(), keep):
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
