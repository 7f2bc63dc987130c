"""Prompt-injection hygiene for customer-written text (notes, reviews, support messages).

``sanitize_untrusted`` runs before such text reaches a prompt: it removes invisible characters (Unicode
format, private-use and unassigned code points, tag characters) that can smuggle instructions, and caps the
length. ``scan_note_for_injection`` is a keyword/YARA-style detector that only flags for reviewers: such
detectors catch little, and the real defences are fencing the data and checking outputs for effects.
"""

from __future__ import annotations

import re
import unicodedata

from copyloom.guardrails.lexicon import injection_rules
from copyloom.guardrails.text import passed, result
from copyloom.guardrails.types import CheckResult, Evidence, Verdict

NAME = "injection"
_KEEP = frozenset("\n\t")
# Zero-width joiner/non-joiner and variation selectors carry meaning in emoji and some scripts; keep those.
_KEEP_FORMAT = frozenset("\u200c\u200d\ufe0e\ufe0f")


def sanitize_untrusted(text: str, max_len: int) -> str:
    """Strip Cc (but newline/tab), Cf, Co, Cn and tag characters; normalize to NFKC; cap at ``max_len``."""
    if max_len < 0:
        raise ValueError("max_len must be >= 0")
    kept = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch in _KEEP or ch in _KEEP_FORMAT:
            kept.append(ch)
            continue
        if 0xE0000 <= ord(ch) <= 0xE007F:
            continue  # tag characters: invisible ASCII look-alikes
        if unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cn", "Cs"}:
            continue
        kept.append(ch)
    cleaned = re.sub(r"[ \t]{3,}", "  ", "".join(kept)).strip()
    return cleaned[:max_len]


def scan_note_for_injection(text: str) -> CheckResult:
    """Flag text that reads like instructions to a model; never blocks."""
    hidden = [ch for ch in text if 0xE0000 <= ord(ch) <= 0xE007F or unicodedata.category(ch) in {"Cf", "Co"}]
    evidence: list[Evidence] = []
    for name, pattern in injection_rules():
        m = pattern.search(text)
        if m:
            evidence.append(Evidence(start=m.start(), end=m.end(), text=m.group(0)[:200], reason_code=name))
    if len([c for c in hidden if c not in _KEEP_FORMAT]) > 0:
        evidence.append(Evidence(text=f"{len(hidden)} invisible characters", reason_code="invisible_characters"))
    if not evidence:
        return passed(NAME, "No instruction-like text.")
    rules = ", ".join(dict.fromkeys(e.reason_code or "" for e in evidence))
    return result(
        NAME, Verdict.FLAG, "possible_injection", f"Note reads like instructions to a model ({rules}).", evidence
    )
