"""Product mentions: exact names (bundle or catalogue) and near misses ("Pegasus 41" for "Pegasus 40")."""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from copyloom.contracts.text import CJK_RE, levenshtein
from copyloom.contracts.words import is_boundary

_TOKEN = re.compile(r"[A-Za-z]+|\d+|[\u3400-\u9fff]+")
_GAP = re.compile(r"[\s-]*")  # what may separate the words of a near miss


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    text: str
    name: str  # the known product name it matches or nearly matches
    exact: bool


Rank = tuple[int, str]


def _rank(name: str) -> Rank:
    """The order names are tried in: longer first (at one position the longer name wins), then alphabetical."""
    return (-len(name), name)


@dataclass(frozen=True, slots=True)
class _Exact:
    name: str
    rank: Rank

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.name)


@dataclass(frozen=True, slots=True)
class _Layer:
    """Known names indexed so that a text is compared with the few names it could mention, not with the whole
    catalogue: a real catalogue has thousands of names (4,194 in Online Retail), and comparing each field of each
    draft with every one of them took ~60 ms per field.

    A catalogue's layer is built once and shared by every draft of the workspace; the few names of a bundle that
    the catalogue lacks (an old order line's wording) get a small layer of their own."""

    by_first_token: dict[str, tuple[_Exact, ...]]  # names with latin tokens, by their first token (lower case)
    by_substring: tuple[tuple[str, _Exact], ...]  # other names (CJK, no token), by a piece every match contains
    by_lower: dict[str, str]
    latin: tuple[tuple[str, tuple[str, ...]], ...]  # (name, lower-cased tokens), in rank order
    near_exact: dict[str, tuple[int, ...]]  # first token -> indexes into ``latin`` (short first tokens)
    # (first token minus up to two letters, its length) -> indexes into ``latin``: a word is close only to words
    # within two letters of its length, so only those are looked up
    near_deletes: dict[tuple[str, int], tuple[int, ...]]
    # names whose first token is a number (any number is close to any number), by what their second token must be
    # close to: "#" (a number), "=word" (a short word: only itself) or a deletion variant of a longer word
    near_digits: dict[str, tuple[int, ...]]
    cjk: tuple[tuple[str, str], ...]  # (name, anchor: its first two CJK characters), in rank order


def _name_pattern(name: str) -> str:
    body = r"\s*".join(re.escape(part) for part in name.split())
    if CJK_RE.search(name):
        return body
    # One-word names ("Beanie") match only as written, so a common noun is not taken for a product. Latin
    # names are bounded by Latin letters and digits only: a name glued to Chinese text ("您的Pegasus 40跑鞋") is
    # a whole word (the change of script is the boundary).
    flags = "" if len(name.split()) > 1 else "(?-i:"
    return rf"(?<![A-Za-z0-9]){flags}{body}{')' if flags else ''}(?![A-Za-z0-9])"


def _normal(name: str) -> str:
    return " ".join(name.split()).lower()


def _deletes(word: str, depth: int) -> set[str]:
    """``word`` and every string made from it by deleting up to ``depth`` characters. Two words within edit
    distance ``depth`` always share one (the index of near misses rests on this)."""
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


@lru_cache(maxsize=65536)
def _compiled(name: str) -> re.Pattern[str]:
    """A name's exact pattern, compiled the first time a text may contain it (most names of a large catalogue
    never come up)."""
    return re.compile(_name_pattern(name), re.IGNORECASE)


@lru_cache(maxsize=65536)
def _variants(token: str) -> tuple[str, ...]:
    """Deletion variants of a text's word (words repeat across drafts: computed once each)."""
    return tuple(_deletes(token, 2))


@lru_cache(maxsize=16)
def _normal_set(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_normal(n) for n in names)


@lru_cache(maxsize=256)
def _extra_names(names: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    """The names of ``extra`` that ``names`` lacks, case and spacing aside (the patterns ignore both)."""
    have = _normal_set(names)
    return tuple(sorted({e.strip() for e in extra if e.strip() and _normal(e) not in have}))


@lru_cache(maxsize=64)
def _layer(names: tuple[str, ...]) -> _Layer:
    ordered = sorted({n.strip() for n in names if n.strip()}, key=_rank)
    by_first: dict[str, list[_Exact]] = {}
    by_substring: list[tuple[str, _Exact]] = []
    latin: list[tuple[str, tuple[str, ...]]] = []
    near_exact: dict[str, list[int]] = {}
    near_deletes: dict[tuple[str, int], list[int]] = {}
    near_digits: dict[str, list[int]] = {}
    cjk: list[tuple[str, str]] = []
    for n in ordered:
        exact = _Exact(n, _rank(n))
        tokens = tuple(t.lower() for t in _TOKEN.findall(n))
        if CJK_RE.search(n) or not tokens:
            # Every match contains the name's first word (case aside): a cheap test before the pattern.
            by_substring.append((n.split()[0].lower(), exact))
        else:
            by_first.setdefault(tokens[0], []).append(exact)
        if CJK_RE.search(n):
            run = CJK_RE.findall(n)
            if len(run) >= 2:
                first = n[n.index(run[0]) :][:2]
                cjk.append((n, first))
        elif len(tokens) >= 2:
            index, head = len(latin), tokens[0]
            latin.append((n, tokens))
            if head.isdigit():
                for key in _next_keys(tokens[1], index=True):
                    near_digits.setdefault(key, []).append(index)
            elif len(head) < 4:  # short words are close only to themselves (see ``_close``)
                near_exact.setdefault(head, []).append(index)
            else:
                for variant in _deletes(head, 2):
                    near_deletes.setdefault((variant, len(head)), []).append(index)
    by_lower = {re.sub(r"\s+", " ", n.lower()): n for n in ordered}
    return _Layer(
        {k: tuple(v) for k, v in by_first.items()},
        tuple(by_substring),
        by_lower,
        tuple(latin),
        {k: tuple(v) for k, v in near_exact.items()},
        {k: tuple(v) for k, v in near_deletes.items()},
        {k: tuple(v) for k, v in near_digits.items()},
        tuple(cjk),
    )


def _next_keys(token: str, *, index: bool) -> tuple[str, ...]:
    """Keys under which a digit-first name is found by the word after the number (see ``_close``): any number
    for a number, the word itself for a short word, deletion variants for a longer one."""
    if token.isdigit():
        return ("#",)
    if len(token) < 4:
        return ("=" + token,)
    return tuple(_deletes(token, 2)) if index else _variants(token)


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


def _exact_mentions(layers: list[_Layer], text: str, tokens: list[tuple[str, int, int]]) -> list[Mention]:
    """Non-overlapping exact mentions, leftmost first and, at one position, the first name in rank order: what
    one regular expression of all names would find, at the cost of the few names the text could contain."""
    lowered = text.lower()
    candidates: set[_Exact] = set()
    for layer in layers:
        # A match begins with the name's first token; the text's token there may be longer ("HeartOf Wicker"
        # matches "Heart Of Wicker": parts may be written without a space), so every prefix is looked up.
        first = layer.by_first_token
        candidates |= {e for t, _, _ in tokens for j in range(1, len(t) + 1) for e in first.get(t[:j], ())}
        candidates |= {e for piece, e in layer.by_substring if piece in lowered}
    # Each candidate's next match, leftmost first and then by rank; a match that an accepted one overlaps is
    # looked for again after it.
    heap = [(hit.start(), e.rank, hit, e) for e in candidates if (hit := e.pattern.search(text)) is not None]
    heapq.heapify(heap)
    found: list[Mention] = []
    pos = 0
    while heap:
        start, rank, hit, e = heapq.heappop(heap)
        if start < pos:
            again = e.pattern.search(text, pos)
            if again is not None:
                heapq.heappush(heap, (again.start(), rank, again, e))
            continue
        if CJK_RE.search(e.name) and not (is_boundary(text, hit.start()) and is_boundary(text, hit.end())):
            # A Chinese name inside a longer word (jieba's cut) is not that product: "马克杯垫" is no "马克杯".
            again = e.pattern.search(text, hit.start() + 1)
            if again is not None:
                heapq.heappush(heap, (again.start(), rank, again, e))
            continue
        key = re.sub(r"\s+", " ", hit.group(0).lower())
        name = next((layer.by_lower[key] for layer in layers if key in layer.by_lower), hit.group(0))
        found.append(Mention(hit.start(), hit.end(), hit.group(0), name, True))
        pos = hit.end()
        again = e.pattern.search(text, pos)  # the same name may be mentioned again
        if again is not None:
            heapq.heappush(heap, (again.start(), rank, again, e))
    return found


def _near_candidates(
    layers: list[_Layer], tokens: list[tuple[str, int, int]], skip: frozenset[int] = frozenset()
) -> list[tuple[Rank, int, str, tuple[str, ...]]]:
    """(rank, token position, name, name tokens) of names whose first token may be close to the text's token
    there, in the order a scan of every name (in rank order) over every position would meet them. Positions in
    ``skip`` (inside an exact mention, where no near miss can start) are not looked at."""
    found: set[tuple[Rank, int, str, tuple[str, ...]]] = set()
    for layer in layers:
        for i, (token, _, _) in enumerate(tokens):
            if i in skip:
                continue
            names: tuple[int, ...] | list[int]
            if token.isdigit():
                after = tokens[i + 1][0] if i + 1 < len(tokens) else None
                keys = _next_keys(after, index=False) if after is not None else ()
                names = [n for key in keys for n in layer.near_digits.get(key, ())]
            elif len(token) < 4:
                names = layer.near_exact.get(token, ())
            else:
                lengths = range(max(4, len(token) - 2), len(token) + 3)
                names = [
                    n
                    for variant in _variants(token)
                    for size in lengths
                    for n in layer.near_deletes.get((variant, size), ())
                ]
            nxt = tokens[i + 1][0] if i + 1 < len(tokens) else None
            for n in names:
                name, want = layer.latin[n]
                # Every token of the window must be close: the second one is tested here, before sorting, so a
                # common first word ("black" is close to "back") does not bring in every name it begins.
                if i + len(want) > len(tokens) or (nxt is not None and not _close(nxt, want[1])):
                    continue
                found.add((_rank(name), i, name, want))
    return sorted(found)


def find_products(text: str, names: tuple[str, ...], extra: tuple[str, ...] = ()) -> list[Mention]:
    """Exact mentions of any known name, then near misses of known names that are not exact mentions.

    ``names`` is the large, stable list (a workspace's catalogue, indexed once); ``extra`` adds a few names for
    this text only (a bundle's), as if they were part of ``names``, except that a name ``names`` already holds
    (case and spacing aside) is not added again."""
    layers = [_layer(names)]
    more = _extra_names(names, extra) if extra else ()
    if more:
        layers.append(_layer(more))
    tokens = [(t.group(0).lower(), t.start(), t.end()) for t in _TOKEN.finditer(text)]
    found = _exact_mentions(layers, text, tokens)
    covered = [(f.start, f.end) for f in found]

    def free(a: int, b: int) -> bool:
        return not any(s < b and a < e for s, e in covered)

    # A near miss overlapping an exact mention is never kept: its tokens are not compared at all (a text naming
    # a real catalogue's product exactly would otherwise compare hundreds of names sharing its words).
    inside = frozenset(i for i, (_, a, b) in enumerate(tokens) if not free(a, b))
    for _, i, name, want in _near_candidates(layers, tokens, inside):
        k = len(want)
        if i + k > len(tokens) or any(j in inside for j in range(i, i + k)):
            continue
        window = tokens[i : i + k]
        if not all(_close(w[0], t) for w, t in zip(window, want, strict=True)):
            continue
        if not all(_GAP.fullmatch(text, window[j][2], window[j + 1][1]) for j in range(k - 1)):
            continue
        start, end = window[0][1], window[-1][2]
        if free(start, end):
            found.append(Mention(start, end, text[start:end], name, False))
            covered.append((start, end))
    for name, anchor in sorted((c for layer in layers for c in layer.cjk), key=lambda c: _rank(c[0])):
        if anchor not in text:
            continue
        compact = name.replace(" ", "")
        for hit in re.finditer(re.escape(anchor), text):
            for length in (len(compact), len(compact) - 1, len(compact) + 1):
                cand = text[hit.start() : hit.start() + length]
                if cand != compact and levenshtein(cand, compact, 2) <= 2 and free(hit.start(), hit.start() + length):
                    found.append(Mention(hit.start(), hit.start() + length, cand, name, False))
                    covered.append((hit.start(), hit.start() + length))
                    break
            else:
                stop = _cjk_insertion(text, hit.start(), compact)
                if stop is not None and free(hit.start(), stop):
                    found.append(Mention(hit.start(), stop, text[hit.start() : stop], name, False))
                    covered.append((hit.start(), stop))
    found += _latin_insertions(layers, text, tokens, free, covered)
    return found


_INSERTED_NOT = frozenset("的和与及或、，,")


def _cjk_insertion(text: str, start: int, compact: str) -> int | None:
    """End of a name written with one to four Chinese characters inserted ("阿尔卑斯碳纤维登山杖" for
    "阿尔卑斯登山杖"): another product, a near miss."""
    if len(compact) < 4 or not all(CJK_RE.match(c) for c in compact):
        return None
    for p in range(2, len(compact) - 1):
        if not text.startswith(compact[:p], start):
            continue
        for extra in range(1, 5):
            inserted = text[start + p : start + p + extra]
            if len(inserted) < extra or not all(CJK_RE.match(c) and c not in _INSERTED_NOT for c in inserted):
                break
            if text.startswith(compact[p:], start + p + extra):
                return start + p + extra + len(compact) - p
    return None


def _latin_insertions(
    layers: list[_Layer],
    text: str,
    tokens: list[tuple[str, int, int]],
    free: Callable[[int, int], bool],
    covered: list[tuple[int, int]],
) -> list[Mention]:
    """Names written with one word inserted ("Alpine Carbon Trekking Poles" for "Alpine Trekking Poles"): another
    product, a near miss. The name's words must be there as written, the inserted one a word (not a number)."""
    out: list[Mention] = []
    for i, (token, _, _) in enumerate(tokens):
        candidates = sorted({e for layer in layers for e in layer.by_first_token.get(token, ())}, key=lambda e: e.rank)
        for e in candidates:
            want = tuple(t.lower() for t in _TOKEN.findall(e.name))
            k = len(want)
            window = tokens[i : i + k + 1]
            if k < 2 or len(window) < k + 1 or window[-1][0] != want[-1]:
                continue
            if not all(_GAP.fullmatch(text, window[j][2], window[j + 1][1]) for j in range(k)):
                continue
            for skip in range(1, k):
                rest = window[:skip] + window[skip + 1 :]
                if window[skip][0].isalpha() and all(r[0] == w for r, w in zip(rest, want, strict=True)):
                    start, end = window[0][1], window[-1][2]
                    if free(start, end):
                        out.append(Mention(start, end, text[start:end], e.name, False))
                        covered.append((start, end))
                    break
    return out


@lru_cache(maxsize=2048)
def product_mentions(text: str, names: tuple[str, ...], extra: tuple[str, ...] = ()) -> tuple[Mention, ...]:
    """``find_products``, remembered: grounding, tone and language all ask about the same fields."""
    return tuple(find_products(text, names, extra))
