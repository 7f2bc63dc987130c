"""Rule-based extraction of the risky values in marketing copy: prices, percentages, codes, dates, URLs.

Every extractor returns spans with parsed values, in English and Chinese notations, so grounding can compare
them with the facts exactly. Pure regular expressions: microseconds per draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

CURRENCY_OF_SYMBOL: dict[str, frozenset[str]] = {
    "$": frozenset({"USD", "CAD", "AUD", "HKD", "SGD", "NZD", "TWD", "MXN"}),
    "us$": frozenset({"USD"}),
    "usd": frozenset({"USD"}),
    "dollar": frozenset({"USD", "CAD", "AUD"}),
    "hk$": frozenset({"HKD"}),
    "nt$": frozenset({"TWD"}),
    "a$": frozenset({"AUD"}),
    "c$": frozenset({"CAD"}),
    "s$": frozenset({"SGD"}),
    "£": frozenset({"GBP"}),
    "gbp": frozenset({"GBP"}),
    "pound": frozenset({"GBP"}),
    "€": frozenset({"EUR"}),
    "eur": frozenset({"EUR"}),
    "euro": frozenset({"EUR"}),
    "¥": frozenset({"CNY", "JPY"}),
    "￥": frozenset({"CNY", "JPY"}),
    "元": frozenset({"CNY"}),
    "块": frozenset({"CNY"}),
    "rmb": frozenset({"CNY"}),
    "cny": frozenset({"CNY"}),
    "yuan": frozenset({"CNY"}),
    "円": frozenset({"JPY"}),
    "jpy": frozenset({"JPY"}),
}
_NUM = r"\d{1,3}(?:[,.\u00a0 ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_PREFIX = r"US\$|HK\$|NT\$|A\$|C\$|S\$|RMB|CNY|USD|EUR|GBP|JPY|\$|£|€|¥|￥"
_SUFFIX = r"€|元|円|块|USD|EUR|GBP|CNY|RMB|JPY|yuan|dollars?|euros?|pounds?"
PRICE_RE = re.compile(
    rf"(?:(?P<pre>{_PREFIX})\s?(?P<n1>{_NUM})(?!\s?%)|(?<![0-9A-Za-z.,])(?P<n2>{_NUM})\s?(?P<suf>{_SUFFIX})(?![A-Za-z]))",
    re.IGNORECASE,
)
PERCENT_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:[.,]\d{1,2})?)\s?(?:%|％|percent\b|per cent\b)", re.IGNORECASE)
ZHE_RE = re.compile(r"(?<![\d.])(\d(?:\.\d)?|\d{2})\s?折")
CODE_TOKEN_RE = re.compile(
    r"(?<![A-Za-z0-9-])(?=[A-Z0-9-]*[A-Z])(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,19}(?![A-Za-z0-9])"
)
CODE_TRIGGER_RE = re.compile(
    r"(?:\b(?:promo\s*code|discount\s*code|coupon(?:\s*code)?|voucher(?:\s*code)?|code|enter)\b|使用优惠码|优惠码|折扣码|券码|兑换码|输入|填写)"
    r"[\s:：\"'“”「」『』]*(?P<code>[A-Za-z0-9][A-Za-z0-9-]{2,19})",
    re.IGNORECASE,
)
_TIME_TOKEN_RE = re.compile(r"\d{1,2}(?:AM|PM|H|HR|HRS|MIN|K|G|GB|TB|MM|CM|KG|ML)", re.IGNORECASE)
# Links with a scheme or www., host/path without one, and a bare host on a common top-level domain
# ("order at northwind.example.deals-today.com"): each is checked as a link.
_URL_CHAR = r"[A-Za-z0-9\-._~:/?#@!$&*+,;=%]"  # ASCII only: a link glued to Chinese text ends where the Chinese begins
_TLDS = (
    r"com|net|org|io|co|cn|uk|us|de|fr|jp|hk|tw|sg|au|ca|eu|me|ly|gl|gg|to|cc|tv|ai|shop|store|app|info|biz|xyz"
    r"|online|site|top|vip|club|link|click|deals|sale|example"
)
URL_RE = re.compile(
    rf"(?:https?://|www\.){_URL_CHAR}+"
    rf"|(?<![@A-Za-z0-9_.])(?:[a-z0-9-]+\.)+[a-z]{{2,}}/{_URL_CHAR}*"
    rf"|(?<![@A-Za-z0-9_.-])(?:[a-z0-9-]+\.)+(?:{_TLDS})(?![A-Za-z0-9_-])",
    re.IGNORECASE,
)
_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MON = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
DATE_RES = (
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?:(?P<y>\d{4})\s?年\s?)?(?P<m>\d{1,2})\s?月\s?(?P<d>\d{1,2})\s?[日号]"),
    re.compile(rf"\b{_MON}\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}}))?", re.IGNORECASE),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MON}\b\.?(?:,?\s+(?P<y>\d{{4}}))?", re.IGNORECASE),
    re.compile(r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{2}|\d{4}))?(?![\d/])"),
    # dd.mm.yyyy (and mm.dd.yyyy): a year is required, so "18.50" stays a number
    re.compile(r"(?<![\d.])(?P<a>\d{1,2})\.(?P<b>\d{1,2})\.(?P<y>\d{4})(?![\d.])"),
)
TODAY_CLAIMS = re.compile(
    r"\b(?:tonight only|today only|ends (?:today|tonight)|expires (?:today|tonight)|last day|final day|"
    r"until midnight|today'?s the last)\b|今晚|今天截止|今日截止|仅限今天|仅限今日|今天结束|今日结束|最后一天",
    re.IGNORECASE,
)  # whole words: "last days of the sale" is not "last day"
TOMORROW_CLAIMS = re.compile(r"\b(?:ends|expires) tomorrow\b|明天截止|明日截止|明天结束", re.IGNORECASE)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_NUMBER_WORDS |= {"ten": 10, "twelve": 12, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_NUMBER_WORDS |= {"八": 8, "九": 9, "十": 10}
_UNIT_HOURS = {
    "minute": 1 / 60,
    "min": 1 / 60,
    "hour": 1.0,
    "hr": 1.0,
    "day": 24.0,
    "分钟": 1 / 60,
    "小时": 1.0,
    "天": 24.0,
}
# "Only 2 hours left", "ends in 3 days", "仅剩2小时": how long the offer still runs, checked against the facts.
REMAINING_CLAIMS = (
    re.compile(
        r"\b(?P<n>\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s+(?P<unit>minute|min|hour|hr|day)s?"
        r"\s+(?:left|to go|remaining)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(?:ends|expires|over) in (?P<n>\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s+"
        r"(?P<unit>minute|min|hour|hr|day)s?\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:仅剩|只剩|还剩|剩余|倒计时)\s?(?:最后|不到)?\s?(?P<n>\d{1,3}|[一两二三四五六七八九十])\s?(?:个)?(?P<unit>分钟|小时|天)"
    ),
)


@dataclass(frozen=True, slots=True)
class Remaining:
    start: int
    end: int
    text: str
    hours: float  # the time left the text claims
    unit_hours: float  # its unit: a claim is read to the nearest whole unit


def find_remaining(text: str) -> list[Remaining]:
    out: list[Remaining] = []
    for pattern in REMAINING_CLAIMS:
        for m in pattern.finditer(text):
            raw, unit = m.group("n").lower(), _UNIT_HOURS[m.group("unit").lower()]
            n = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
            out.append(Remaining(m.start(), m.end(), m.group(0), n * unit, unit))
    return out


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Price(Span):
    value: Decimal
    currencies: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Percent(Span):
    value: Decimal


@dataclass(frozen=True, slots=True)
class DateMention(Span):
    """A date in the copy; ``year`` None when the copy omits it. Ambiguous d/m orders give several readings."""

    readings: tuple[tuple[int, int], ...]  # (month, day)
    year: int | None


def parse_number(raw: str, *, thousands_dot: bool = False) -> Decimal | None:
    s = raw.replace("\u00a0", "").replace(" ", "")
    if "," in s and "." in s:
        dec = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if dec == "," else ",", "").replace(",", ".")
    elif "," in s:
        s = s.replace(",", ".") if re.fullmatch(r"\d+,\d{1,2}", s) else s.replace(",", "")
    elif "." in s and thousands_dot and re.fullmatch(r"\d{1,3}(?:\.\d{3})+", s):
        s = s.replace(".", "")
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def _currency(token: str) -> frozenset[str] | None:
    key = token.lower().rstrip("s") if token.isalpha() and token.isascii() else token.lower()
    return CURRENCY_OF_SYMBOL.get(key)


def find_prices(text: str) -> list[Price]:
    out: list[Price] = []
    for m in PRICE_RE.finditer(text):
        token = m.group("pre") or m.group("suf")
        raw = m.group("n1") or m.group("n2")
        value = parse_number(raw, thousands_dot=token in {"€", "EUR", "eur"})
        if value is not None:
            out.append(Price(m.start(), m.end(), m.group(0), value, _currency(token)))
    return out


def find_percents(text: str) -> list[Percent]:
    out = [
        Percent(m.start(), m.end(), m.group(0), value)
        for m in PERCENT_RE.finditer(text)
        if (value := parse_number(m.group(1))) is not None
    ]
    for m in ZHE_RE.finditer(text):
        tenths = Decimal(m.group(1))
        fraction = tenths / 100 if len(m.group(1)) == 2 and "." not in m.group(1) else tenths / 10
        out.append(Percent(m.start(), m.end(), m.group(0), (1 - fraction) * 100))
    return out


def find_codes(text: str) -> list[Span]:
    """Tokens that look like promo codes: letters+digits in capitals, or anything right after "code"/"优惠码"."""
    seen: dict[tuple[int, int], Span] = {}
    for m in CODE_TRIGGER_RE.finditer(text):
        code = m.group("code")
        looks_like_code = any(c.isdigit() for c in code) or code.isupper()
        if looks_like_code:
            seen[m.span("code")] = Span(m.start("code"), m.end("code"), code)
    for m in CODE_TOKEN_RE.finditer(text):
        token = m.group(0)
        if _TIME_TOKEN_RE.fullmatch(token) or token.strip("-") != token:
            continue
        if not any(s.start <= m.start() < s.end for s in seen.values()):
            seen[m.span()] = Span(m.start(), m.end(), token)
    return sorted(seen.values(), key=lambda s: s.start)


def find_dates(text: str) -> list[DateMention]:
    out: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for pattern in DATE_RES:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            groups = m.groupdict()
            year = int(groups["y"]) if groups.get("y") else None
            if year is not None and year < 100:
                year += 2000
            if groups.get("a"):
                a, b = int(groups["a"]), int(groups["b"])
                if m.group(0) == "24/7":
                    continue
                readings = tuple(dict.fromkeys(r for r in ((a, b), (b, a)) if 1 <= r[0] <= 12 and 1 <= r[1] <= 31))
            else:
                month = _MONTHS[groups["mon"][:3].lower()] if groups.get("mon") else int(groups["m"])
                readings = ((month, int(groups["d"])),) if 1 <= month <= 12 and 1 <= int(groups["d"]) <= 31 else ()
            if readings:
                taken.append(m.span())
                out.append(DateMention(m.start(), m.end(), m.group(0), readings, year))
    return out


def mention_dates(mention: DateMention, around: date) -> list[date]:
    """Concrete dates a mention may mean; without a year, the years next to ``around``."""
    years = [mention.year] if mention.year else [around.year - 1, around.year, around.year + 1]
    out: list[date] = []
    for y in years:
        for month, day in mention.readings:
            try:
                out.append(date(y, month, day))
            except ValueError:
                continue
    return out


def find_urls(text: str) -> list[Span]:
    return [
        Span(m.start(), m.start() + len(m.group(0).rstrip(".,;:!?")), m.group(0).rstrip(".,;:!?"))
        for m in URL_RE.finditer(text)
    ]


def normalize_url(url: str) -> str:
    u = re.sub(r"^https?://", "", url.strip().lower())
    u = u.removeprefix("www.")
    return u.rstrip("/")


def url_host(url: str) -> str:
    return normalize_url(url).split("/", 1)[0].split(":", 1)[0]
