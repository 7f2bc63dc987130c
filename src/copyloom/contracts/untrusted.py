"""Hygiene for customer-written text (names, notes, reviews, support messages) before it goes anywhere near a
prompt: invisible characters that can smuggle instructions are removed and the length is capped.

One implementation, used by retrieval (fact texts), prompts (data fences) and guardrails (note scanning).
"""

from __future__ import annotations

import re
import unicodedata

_KEEP = frozenset("\n\t")
# Zero-width joiner/non-joiner and variation selectors carry meaning in emoji and some scripts; keep those.
KEEP_FORMAT = frozenset("\u200c\u200d\ufe0e\ufe0f")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs"})


def sanitize_untrusted(text: str, max_len: int) -> str:
    """Strip Cc (but newline/tab), Cf, Co, Cn, Cs and tag characters; normalize to NFKC; cap at ``max_len``."""
    if max_len < 0:
        raise ValueError("max_len must be >= 0")
    kept = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch in _KEEP or ch in KEEP_FORMAT:
            kept.append(ch)
            continue
        if 0xE0000 <= ord(ch) <= 0xE007F:
            continue  # tag characters: invisible ASCII look-alikes
        if unicodedata.category(ch) in _DROP_CATEGORIES:
            continue
        kept.append(ch)
    cleaned = re.sub(r"[ \t]{3,}", "  ", "".join(kept)).strip()
    return cleaned[:max_len]
