"""Product mentions: the indexed matcher finds exactly what comparing every name with the text finds.

``reference_find_products`` is the straightforward matcher the index replaced (one regular expression of all names,
every name's first word tried at every position); it is the oracle for hypothesis and for a real catalogue."""

from __future__ import annotations

import csv
import gzip
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copyloom.contracts.text import CJK_RE, levenshtein
from copyloom.guardrails.products import _TOKEN, _close, _name_pattern, find_products
from tests.conftest import SHARED_DATA
from tests.domain.test_online_retail import SAMPLE

Found = list[tuple[int, int, str, str, bool]]


def reference_find_products(text: str, names: tuple[str, ...], extra: tuple[str, ...] = ()) -> Found:
    have = {" ".join(n.split()).lower() for n in names}
    names = names + tuple(e for e in extra if " ".join(e.split()).lower() not in have)
    ordered = sorted({n.strip() for n in names if n.strip()}, key=lambda n: (-len(n), n))
    exact = re.compile("|".join(_name_pattern(n) for n in ordered), re.IGNORECASE) if ordered else None
    latin, cjk = [], []
    for n in ordered:
        tokens = tuple(t.lower() for t in _TOKEN.findall(n))
        if CJK_RE.search(n):
            run = CJK_RE.findall(n)
            if len(run) >= 2:
                cjk.append((n, n[n.index(run[0]) :][:2]))
        elif len(tokens) >= 2:
            latin.append((n, tokens))
    by_lower = {re.sub(r"\s+", " ", n.lower()): n for n in ordered}
    found: Found = []
    if exact is not None:
        for hit in exact.finditer(text):
            key = re.sub(r"\s+", " ", hit.group(0).lower())
            found.append((hit.start(), hit.end(), hit.group(0), by_lower.get(key, hit.group(0)), True))
    covered = [(f[0], f[1]) for f in found]

    def free(a: int, b: int) -> bool:
        return not any(s < b and a < e for s, e in covered)

    tokens = [(t.group(0).lower(), t.start(), t.end()) for t in _TOKEN.finditer(text)]
    for name, want in latin:
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
                found.append((start, end, text[start:end], name, False))
                covered.append((start, end))
    for name, anchor in cjk:
        compact = name.replace(" ", "")
        for hit in re.finditer(re.escape(anchor), text):
            for length in (len(compact), len(compact) - 1, len(compact) + 1):
                cand = text[hit.start() : hit.start() + length]
                if cand != compact and levenshtein(cand, compact, 2) <= 2 and free(hit.start(), hit.start() + length):
                    found.append((hit.start(), hit.start() + length, cand, name, False))
                    covered.append((hit.start(), hit.start() + length))
                    break
            else:  # one to four Chinese characters inserted into a Chinese name
                a = hit.start()
                for end in range(a + len(compact) + 1, a + len(compact) + 5):
                    piece = text[a:end]
                    ins = [
                        piece[p : len(piece) - len(compact) + p]
                        for p in range(2, len(compact) - 1)
                        if piece[:p] == compact[:p] and piece[len(piece) - len(compact) + p :] == compact[p:]
                    ]
                    ok = [x for x in ins if all(CJK_RE.match(c) and c not in "的和与及或、，," for c in x)]
                    if len(compact) >= 4 and all(CJK_RE.match(c) for c in compact) and ok and len(piece) == end - a:
                        if free(a, end):
                            found.append((a, end, piece, name, False))
                            covered.append((a, end))
                        break
    # one word inserted into a Latin name, its other words as written
    for i in range(len(tokens)):
        for name in ordered:
            want = tuple(t.lower() for t in _TOKEN.findall(name))
            k = len(want)
            if CJK_RE.search(name) or not want or k < 2 or tokens[i][0] != want[0] or i + k + 1 > len(tokens):
                continue
            window = tokens[i : i + k + 1]
            gaps_ok = all(re.fullmatch(r"[\s-]*", text[window[j][2] : window[j + 1][1]]) for j in range(k))
            for skip in range(1, k):
                rest = [w[0] for j, w in enumerate(window) if j != skip]
                if gaps_ok and window[skip][0].isalpha() and tuple(rest) == want:
                    start, end = window[0][1], window[-1][2]
                    if free(start, end):
                        found.append((start, end, text[start:end], name, False))
                        covered.append((start, end))
                    break
    return found


def indexed(text: str, names: tuple[str, ...], extra: tuple[str, ...] = ()) -> Found:
    return [(m.start, m.end, m.text, m.name, m.exact) for m in find_products(text, names, extra)]


WORDS = ["Pegasus", "pegasus", "Trail", "Tent", "Tents", "Heart", "Of", "Wicker", "Lantern", "Lanterns", "Regency"]
WORDS += ["Cakestand", "Cakestands", "T-Light", "Holder", "3", "4", "40", "41", "Mug", "Ranger", "Rangers", "Alpine"]
WORDS += ["冲锋衣", "登山包", "轻量", "防水", "the", "and", "a", "is", "back", "Pegasos", "Cakestnd", "Hoder"]
names_st = st.lists(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join), min_size=1, max_size=12
).map(tuple)
glue = st.sampled_from([" ", "", "  ", "-", ", ", ". ", "\n"])
text_st = st.lists(st.tuples(st.sampled_from(WORDS), glue), max_size=25).map(lambda p: "".join(w + g for w, g in p))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=names_st, extra=names_st, text=text_st)
def test_indexed_matcher_finds_what_the_full_scan_finds(
    names: tuple[str, ...], extra: tuple[str, ...], text: str
) -> None:
    assert indexed(text, names) == reference_find_products(text, names)
    # A bundle's names added to a catalogue's: as if they were one list.
    assert indexed(text, names, extra) == reference_find_products(text, names, extra)


def test_glued_parts_typos_and_numbers_are_found_like_before() -> None:
    names = ("Heart Of Wicker", "Pegasus 40", "Regency Cakestand 3 Tier", "冲锋衣 Pro", "Beanie")
    text = "HeartOf Wicker, the Pegasus 41, a Regency Cakestnd 3 Tier, 冲锋衣Pro and a beanie."
    found = indexed(text, names)
    assert found == reference_find_products(text, names)
    assert [(t, exact) for _, _, t, _, exact in found] == [
        ("HeartOf Wicker", True),
        ("冲锋衣Pro", True),
        ("Regency Cakestnd 3 Tier", False),  # near misses: longer names first, as the full scan did
        ("Pegasus 41", False),
    ]


def _catalogue() -> tuple[str, ...]:
    full = SHARED_DATA / "online_retail" / "online_retail.csv.gz"
    with gzip.open(full, "rt", encoding="utf-8", errors="replace") if full.exists() else SAMPLE.open() as f:
        return tuple(sorted({r["Description"].strip().title() for r in csv.DictReader(f) if r["Description"]}))


def test_a_real_catalogue_gives_the_same_mentions_as_the_full_scan() -> None:
    names = _catalogue()
    if len(names) < 1000:
        pytest.skip("the full Online Retail catalogue is not beside the repository (../shared/data)")
    rng = random.Random(7)
    for _ in range(25):
        picked = rng.sample(names, 3)
        typo = list(picked[1])
        typo[rng.randrange(len(typo))] = "x"
        bundle = (picked[0].lower(), "Vintage " + picked[2])  # one the catalogue has, one it lacks
        text = f"Hi Sam, the {picked[0]} you loved is back; the {''.join(typo)} pairs with {bundle[1].upper()}."
        assert indexed(text, names, bundle) == reference_find_products(text, names, bundle)
