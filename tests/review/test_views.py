"""Pure parts of the review pages and reports: highlighting spans, phrase diffs."""

from __future__ import annotations

from copyloom.review.diff import content_diff, phrase_changes
from copyloom.review.views import Segment, highlight


def test_highlight_splits_at_every_span_and_keeps_overlaps() -> None:
    segs = highlight("abcdefgh", [(1, 4, "tone", "flag"), (3, 6, "grounding", "block")])
    assert segs == [
        Segment("a"),
        Segment("bc", ("tone",), "flag"),
        Segment("d", ("tone", "grounding"), "block"),
        Segment("ef", ("grounding",), "block"),
        Segment("gh"),
    ]
    assert "".join(s.text for s in segs) == "abcdefgh"


def test_highlight_without_spans_is_one_plain_segment() -> None:
    assert highlight("回T退订", []) == [Segment("回T退订")]
    assert highlight("", []) == []


def test_phrase_changes_name_the_replaced_words() -> None:
    assert phrase_changes("Get 30% off cheap red boots", "Get 20% off sturdy blue boots") == [
        {"before": "30", "after": "20"},
        {"before": "cheap red", "after": "sturdy blue"},
    ]


def test_phrase_changes_work_per_character_in_chinese() -> None:
    assert phrase_changes("春季新品八折优惠", "春季新品九折优惠") == [{"before": "八", "after": "九"}]


def test_content_diff_covers_nested_template_variables_and_skips_unchanged_fields() -> None:
    before = {"channel": "whatsapp", "text": "", "template_variables": {"name": "Ann", "item": "tent"}}
    after = {"channel": "whatsapp", "text": "", "template_variables": {"name": "Ann", "item": "stove"}}
    assert content_diff(before, after) == [
        {"field": "template_variables.item", "changes": [{"before": "tent", "after": "stove"}]}
    ]
