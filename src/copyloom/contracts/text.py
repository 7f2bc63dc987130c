"""Small text helpers shared by the checks: visible fields, CJK detection, edit distance, result builders."""

from __future__ import annotations

import re
import unicodedata

from copyloom.contracts.variants import Variant

# Fields that are machine values rather than copy a person reads.
_NON_COPY_FIELDS = frozenset({"channel", "template_name"})

CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
LATIN_RE = re.compile(r"[A-Za-z]")


def copy_fields(variant: Variant) -> dict[str, str]:
    """The human-visible strings of a variant, by field name."""
    return {k: v for k, v in variant.content.text_fields().items() if k not in _NON_COPY_FIELDS and v}


def cjk_ratio(text: str) -> float:
    """Share of CJK characters among CJK + Latin letters (digits and punctuation ignored)."""
    cjk = len(CJK_RE.findall(text))
    latin = len(LATIN_RE.findall(text))
    total = cjk + latin
    return cjk / total if total else 0.0


def is_chinese_locale(locale: str) -> bool:
    return locale.lower().replace("_", "-").split("-")[0] in {"zh", "yue"}


def levenshtein(a: str, b: str, limit: int = 3) -> int:
    """Edit distance, giving up early (returning ``limit + 1``) once it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        best = i
        for j, cb in enumerate(b, 1):
            val = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            cur.append(val)
            best = min(best, val)
        if best > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Case-insensitive pattern for a phrase: word-bounded for Latin text, plain for CJK."""
    escaped = re.escape(phrase.strip())
    if CJK_RE.search(phrase):
        return re.compile(escaped, re.IGNORECASE)
    return re.compile(rf"(?<!\w){escaped}(?!\w)", re.IGNORECASE)


def char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns the text takes on screen: East Asian wide and fullwidth characters count two. Lock screens, inbox
    lines and banner slots cut text by its width, so a 40-character Chinese title is cut where a 40-letter
    English one fits."""
    if text.isascii():  # most copy, and every candidate the offline composer sizes: no per-character work
        return len(text)
    eaw = unicodedata.east_asian_width
    return len(text) + sum(1 for ch in text if eaw(ch) in ("W", "F"))


def width_cut(text: str, columns: int) -> int:
    """Index of the first character that does not fit in ``columns``."""
    used = 0
    for i, ch in enumerate(text):
        used += char_width(ch)
        if used > columns:
            return i
    return len(text)
