"""Word lists shipped in ``guardrails/data`` (package data), compiled once into a few alternations.

One alternation per list (rather than one pattern per word) keeps a whole list to a single regex scan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from copyloom.contracts.text import CJK_RE


@dataclass(frozen=True, slots=True)
class Hit:
    label: str
    start: int
    end: int
    text: str


class Lexicon:
    """Terms with labels. Latin terms match as whole words, case-insensitively except acronyms (HIV, AIDS:
    "hearing aids" is not a health inference); CJK terms match anywhere. A term may carry a lookahead tail."""

    def __init__(self, entries: Iterable[tuple[str, str, str]], *, acronyms: bool = True) -> None:
        # entries: (label, term, regex tail)
        self._labels: dict[str, str] = {}
        groups: dict[str, list[str]] = {"ci": [], "cs": [], "cjk": []}
        for label, term, tail in sorted(entries, key=lambda e: len(e[1]), reverse=True):
            term = term.strip()
            if not term:
                continue
            acronym = acronyms and term.isupper() and term.isascii()
            kind = "cjk" if CJK_RE.search(term) else "cs" if acronym else "ci"
            self._labels[term if kind == "cs" else term.lower()] = label
            groups[kind].append(re.escape(term) + tail)
        self._patterns: list[tuple[bool, re.Pattern[str]]] = []
        if groups["ci"]:
            alt = "|".join(groups["ci"])
            self._patterns.append((False, re.compile(rf"(?<!\w)(?:{alt})(?!\w)", re.IGNORECASE)))
        if groups["cs"]:
            self._patterns.append((True, re.compile(rf"(?<!\w)(?:{'|'.join(groups['cs'])})(?!\w)")))
        if groups["cjk"]:
            self._patterns.append((False, re.compile("|".join(groups["cjk"]), re.IGNORECASE)))

    def finditer(self, text: str) -> Iterator[Hit]:
        for case_sensitive, pattern in self._patterns:
            for m in pattern.finditer(text):
                key = m.group(0) if case_sensitive else m.group(0).lower()
                yield Hit(self._labels.get(key, key), m.start(), m.end(), m.group(0))

    def __len__(self) -> int:
        return len(self._labels)


def _read(name: str) -> str:
    return (resources.files("copyloom.guardrails") / "data" / name).read_text(encoding="utf-8")


def _lines(name: str) -> list[str]:
    return [ln.strip() for ln in _read(name).splitlines() if ln.strip() and not ln.startswith("#")]


@cache
def zh_superlatives() -> Lexicon:
    data: dict[str, Any] = json.loads(_read("zh_superlatives.json"))
    return Lexicon(
        (e["term"], e["term"], f"(?![{re.escape(e['unless_followed_by'])}])" if e.get("unless_followed_by") else "")
        for e in data["terms"]
    )


@cache
def zh_profanity() -> Lexicon:
    return Lexicon((w, w, "") for w in _lines("zh_profanity.txt"))


@cache
def urgency() -> Lexicon:
    return Lexicon((w, w, "") for w in _lines("urgency.txt"))


@cache
def sensitive_terms() -> Lexicon:
    data: dict[str, Any] = json.loads(_read("sensitive_terms.json"))
    return Lexicon(
        (category, term, "") for category, terms in data.items() if not category.startswith("_") for term in terms
    )


@cache
def sensitive_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Constructions that infer a special category ("money tight", "recovering from", "as you get older"), by
    category: what a word list cannot hold."""
    data: dict[str, Any] = json.loads(_read("sensitive_patterns.json"))
    return tuple(
        (category, re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE))
        for category, patterns in data.items()
        if not category.startswith("_")
    )


@cache
def phrases(terms: tuple[str, ...]) -> Lexicon:
    """A lexicon of brand-supplied phrases (banned phrases, competitor names), labelled by themselves."""
    return Lexicon(((t, t, "") for t in terms), acronyms=False)


@cache
def injection_rules() -> tuple[tuple[str, re.Pattern[str]], ...]:
    data: dict[str, Any] = json.loads(_read("injection_rules.json"))
    return tuple(
        (rule["name"], re.compile("|".join(f"(?:{p})" for p in rule["patterns"]), re.IGNORECASE | re.MULTILINE))
        for rule in data["rules"]
    )
