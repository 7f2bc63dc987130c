"""Display width: the fast paths agree with the per-character definition."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from copyloom.contracts.text import display_width, width_cut


@given(st.text(alphabet=st.sampled_from("aZ9 -!é露营春ｆ，。😀\u0301"), max_size=40))
def test_display_width_counts_wide_and_fullwidth_characters_twice(text: str) -> None:
    expected = sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
    assert display_width(text) == expected
    for columns in range(expected + 2):
        cut = width_cut(text, columns)
        assert display_width(text[:cut]) <= columns
        assert cut == len(text) or display_width(text[: cut + 1]) > columns
