"""Product mentions: exact names (bundle or catalogue) and near misses ("Pegasus 41" for "Pegasus 40")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from copyloom.guardrails.text import CJK_RE, levenshtein

_TOKEN = re.compile(r"[A-Za-z]+|\d+|[\u3400-\u9fff]+")


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    text: str
    name: str  # the known product name it matches or nearly matches
    exact: bool


@dataclass(frozen=True, slots=True)
class _Matcher:
    exact: re.Pattern[str] | None
    by_lower: dict[str, str]
    latin: tuple[tuple[str, tuple[str, ...]], ...]  # (name, lower-cased tokens)
    cjk: tuple[tuple[str, str], ...]  # (name, anchor: its first two CJK characters)


def _name_pattern(name: str) -> str:
    body = r"\s*".join(re.escape(part) for part in name.split())
    if CJK_RE.search(name):
        return body
    # One-word names ("Beanie") match only as written, so a common noun is not taken for a product.
    flags = "" if len(name.split()) > 1 else "(?-i:"
    return rf"(?<!\w){flags}{body}{')' if flags else ''}(?!\w)"


@lru_cache(maxsize=64)
def _matcher(names: tuple[str, ...]) -> _Matcher:
    ordered = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
    exact = re.compile("|".join(_name_pattern(n) for n in ordered), re.IGNORECASE) if ordered else None
    latin: list[tuple[str, tuple[str, ...]]] = []
    cjk: list[tuple[str, str]] = []
    for n in ordered:
        tokens = tuple(t.lower() for t in _TOKEN.findall(n))
        if CJK_RE.search(n):
            run = CJK_RE.findall(n)
            if len(run) >= 2:
                first = n[n.index(run[0]) :][:2]
                cjk.append((n, first))
        elif len(tokens) >= 2:
            latin.append((n, tokens))
    by_lower = {re.sub(r"\s+", " ", n.lower()): n for n in ordered}
    return _Matcher(exact, by_lower, tuple(latin), tuple(cjk))


@lru_cache(maxsize=65536)
def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.isdigit() or b.isdigit():
        return a.isdigit() and b.isdigit()  # a number swap is a near miss, never a match
    allowed = 1 if max(len(a), len(b)) < 8 else 2
    # Cheap rejections first: most word pairs differ in length or share few letters.
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > allowed or len(set(a) ^ set(b)) > 2 * allowed:
        return False
    return levenshtein(a, b, allowed) <= allowed


def find_products(text: str, names: tuple[str, ...]) -> list[Mention]:
    """Exact mentions of any known name, then near misses of known names that are not exact mentions."""
    m = _matcher(names)
    found: list[Mention] = []
    if m.exact is not None:
        for hit in m.exact.finditer(text):
            key = re.sub(r"\s+", " ", hit.group(0).lower())
            found.append(Mention(hit.start(), hit.end(), hit.group(0), m.by_lower.get(key, hit.group(0)), True))
    covered = [(f.start, f.end) for f in found]

    def free(a: int, b: int) -> bool:
        return not any(s < b and a < e for s, e in covered)

    tokens = [(t.group(0).lower(), t.start(), t.end()) for t in _TOKEN.finditer(text)]
    for name, want in m.latin:
        k = len(want)
        for i in range(len(tokens) - k + 1):
            window = tokens[i : i + k]
            if not _close(window[0][0], want[0]):
                continue
            gaps_ok = all(re.fullmatch(r"[\s-]*", text[window[j][2] : window[j + 1][1]]) for j in range(k - 1))
            if not gaps_ok or not all(_close(w[0], t) for w, t in zip(window, want, strict=True)):
                continue
            start, end = window[0][1], window[-1][2]
            if free(start, end):
                found.append(Mention(start, end, text[start:end], name, False))
                covered.append((start, end))
    for name, anchor in m.cjk:
        compact = name.replace(" ", "")
        for hit in re.finditer(re.escape(anchor), text):
            for length in (len(compact), len(compact) - 1, len(compact) + 1):
                cand = text[hit.start() : hit.start() + length]
                if cand != compact and levenshtein(cand, compact, 2) <= 2 and free(hit.start(), hit.start() + length):
                    found.append(Mention(hit.start(), hit.start() + length, cand, name, False))
                    covered.append((hit.start(), hit.start() + length))
                    break
    return found
