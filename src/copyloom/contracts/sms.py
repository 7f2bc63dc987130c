"""SMS encoding and segment counting with GSM-7 / UCS-2 rules (as Twilio's message-segment-calculator does).

A message that fits one segment has 1120 bits: 160 GSM-7 septets or 70 UCS-2 code units. Split messages
lose 48 bits to the user data header per segment: 153 septets or 67 code units. GSM-7 extension characters
take two septets; characters outside the Basic Multilingual Plane take two UTF-16 code units. Whole
graphemes are packed greedily, so an escape sequence, a surrogate pair or an emoji sequence is never split
across segments. One deliberate difference from the calculator: a grapheme made only of GSM-7 characters
("\\r\\n") stays GSM-7, as it does on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import regex

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_BITS = 1120
UDH_BITS = 48

# Typographic punctuation that silently turns a GSM-7 message into UCS-2 (halving its capacity).
SMART_PUNCTUATION = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2012": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2039": "'",
    "\u203a": "'",
}

Encoding = Literal["GSM-7", "UCS-2"]
_GRAPHEME = regex.compile(r"\X")


SEGMENT_CACHE_SIZE = 256  # the SMS texts of the drafts in flight (of one worker), each counted more than once


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """How an SMS body is encoded and into how many segments it splits."""

    encoding: Encoding
    segments: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    non_gsm: tuple[str, ...]


def normalize_sms(text: str) -> str:
    """Replace curly quotes, dashes, ellipses and odd spaces by their ASCII forms."""
    return "".join(SMART_PUNCTUATION.get(ch, ch) for ch in text)


def _is_gsm(ch: str) -> bool:
    return ch in GSM7_BASIC or ch in GSM7_EXTENSION


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if all(_is_gsm(ch) for ch in text) else "UCS-2"


def _grapheme_bits(grapheme: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return sum(14 if ch in GSM7_EXTENSION else 7 for ch in grapheme)
    return 8 * len(grapheme.encode("utf-16-le"))


@lru_cache(maxsize=SEGMENT_CACHE_SIZE)  # thread-safe; the answer is immutable, so sharing it is safe
def count_segments(text: str) -> SegmentInfo:
    """Encoding, segment count and size of ``text`` as sent, without any normalization.

    Memoized by text: a drafted SMS is counted by the length limits and again by the channel check."""
    encoding = encoding_of(text)
    non_gsm = tuple(dict.fromkeys(ch for ch in text if not _is_gsm(ch)))
    unit_bits = 7 if encoding == "GSM-7" else 16
    sizes = [_grapheme_bits(g, encoding) for g in _GRAPHEME.findall(text)]
    total = sum(sizes)
    if total <= SINGLE_BITS:
        return SegmentInfo(encoding, 1 if text else 0, total // unit_bits, non_gsm)
    capacity = SINGLE_BITS - UDH_BITS
    segments, free = 1, capacity
    for bits in sizes:
        if bits > free:
            segments += 1
            free = capacity
        free -= bits
    return SegmentInfo(encoding, segments, total // unit_bits, non_gsm)
