"""The identifier index finds every other customer's identifier a draft contains, without scanning them all."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from copyloom.guardrails.identifiers import IdentifierIndex

INDEX = IdentifierIndex(
    {
        1: ("Emma Carter", "emma.carter@example.com", "+15035550101"),
        2: ("Liam O'Brien", "liam.obrien@example.com", "+15035550102"),
        3: ("王芳", "wang.fang@example.cn", "+8613800138001"),
        4: ("Emma Stone",),
    }
)


def test_finds_names_emails_and_phones_of_other_customers() -> None:
    assert INDEX.candidates("Liam O'Brien loved it", exclude_owner=1) == ["Liam O'Brien"]
    assert INDEX.candidates("Hi emma, as Emma Carter said", exclude_owner=None) == ["Emma Carter"]
    assert INDEX.candidates("write to WANG.FANG@example.cn today", exclude_owner=1) == ["wang.fang@example.cn"]
    assert INDEX.candidates("call (503) 555-0102 now", exclude_owner=1) == []  # without the country code
    assert INDEX.candidates("call +1 503 555 0102 now", exclude_owner=1) == ["+15035550102"]
    assert INDEX.candidates("王芳您好", exclude_owner=1) == ["王芳"]


def test_skips_the_recipient_and_unrelated_text() -> None:
    assert INDEX.candidates("Emma Carter, your tent is ready", exclude_owner=1) == []
    assert INDEX.candidates("EMMA STONE, your tent is ready", exclude_owner=1) == ["Emma Stone"]  # case aside
    # Not in ASCII text: the leakage check's pattern decides ("Emma" in another script's text, the Kelvin sign)
    assert sorted(INDEX.candidates("Emma Carter, 您的帐篷到了", exclude_owner=1)) == ["Emma Stone"]
    assert INDEX.candidates("Northwind Outfitters: spring sale", exclude_owner=None) == []
    assert len(INDEX) == 10


names = st.text(alphabet=st.characters(categories=("Lu", "Ll", "Lo")), min_size=2, max_size=12)


@settings(max_examples=300)
@given(first=names, last=names, before=st.text(max_size=30), after=st.text(max_size=30))
def test_any_identifier_in_a_text_is_a_candidate(first: str, last: str, before: str, after: str) -> None:
    ident = f"{first} {last}"
    index = IdentifierIndex({7: (ident,)})
    text = f"{before} {ident} {after}"
    assert ident in index.candidates(text, exclude_owner=None)
