"""Prompt-injection signals in customer-written text (notes, reviews, support messages).

The text itself is cleaned by ``copyloom.contracts.untrusted.sanitize_untrusted`` before it reaches a prompt.
``scan_note_for_injection`` is a keyword/YARA-style detector that only flags for reviewers: such
detectors catch little, and the real defences are fencing the data and checking outputs for effects.
"""

from __future__ import annotations

import unicodedata

from copyloom.contracts.untrusted import KEEP_FORMAT
from copyloom.guardrails.lexicon import injection_rules
from copyloom.guardrails.results import passed, result
from copyloom.guardrails.types import CheckResult, Evidence, Verdict

NAME = "injection"


def scan_note_for_injection(text: str) -> CheckResult:
    """Flag text that reads like instructions to a model; never blocks."""
    hidden = [ch for ch in text if 0xE0000 <= ord(ch) <= 0xE007F or unicodedata.category(ch) in {"Cf", "Co"}]
    evidence: list[Evidence] = []
    for name, pattern in injection_rules():
        m = pattern.search(text)
        if m:
            evidence.append(Evidence(start=m.start(), end=m.end(), text=m.group(0)[:200], reason_code=name))
    if len([c for c in hidden if c not in KEEP_FORMAT]) > 0:
        evidence.append(Evidence(text=f"{len(hidden)} invisible characters", reason_code="invisible_characters"))
    if not evidence:
        return passed(NAME, "No instruction-like text.")
    rules = ", ".join(dict.fromkeys(e.reason_code or "" for e in evidence))
    return result(
        NAME, Verdict.FLAG, "possible_injection", f"Note reads like instructions to a model ({rules}).", evidence
    )
