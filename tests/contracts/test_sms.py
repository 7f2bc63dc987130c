"""SMS encoding and segments: the TwilioDevEd message-segment-calculator vectors and the GSM-7/UCS-2 rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copyloom.contracts.sms import GSM7_BASIC, GSM7_EXTENSION, count_segments, normalize_sms

DIGITS = "1234567890" * 40


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("你" * 70, "UCS-2", 1),
        ("你" * 71, "UCS-2", 2),
        ("你" * 134, "UCS-2", 2),
        ("你" * 135, "UCS-2", 3),
        # Twilio vectors: '{' costs two septets (1120 bits = one segment; one more char = two).
        ("{" + DIGITS[1:159], "GSM-7", 1),
        ("{" + DIGITS[1:160], "GSM-7", 2),
        # Twilio vectors: the emoji is a surrogate pair, two UTF-16 units.
        ("😜" + DIGITS[1:69], "UCS-2", 1),
        ("😜" + DIGITS[1:70], "UCS-2", 2),
        ("😜" + DIGITS[1:134], "UCS-2", 3),
        ("", "GSM-7", 0),
    ],
)
def test_twilio_segment_vectors(text: str, encoding: str, segments: int) -> None:
    info = count_segments(text)
    assert (info.encoding, info.segments) == (encoding, segments)


def test_twilio_gsm_vector_last_segment_holds_one_char() -> None:
    # 307 digits: 153 + 153 + 1 (segments.test.js "Check last segment has only 1 character").
    assert count_segments(DIGITS[:307]).segments == 3
    assert count_segments(DIGITS[:306]).segments == 2


def test_extension_char_is_not_split_across_segments() -> None:
    # 152 septets then '€' (2): it cannot share the first 153-septet segment.
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3
    assert count_segments("a" * 151 + "€" + "a" * 153).segments == 2


def test_surrogate_pair_is_not_split_across_segments() -> None:
    # 66 units then an emoji (2 units) would straddle the 67-unit boundary: it moves whole.
    text = "你" * 66 + "😀" + "你" * 66
    assert count_segments(text).units == 134
    assert count_segments(text).segments == 3


def test_sms_with_curly_apostrophe_counts_as_ucs2_until_normalized() -> None:
    text = "Northwind: it’s your week. " + "a" * 60
    assert count_segments(text).encoding == "UCS-2"
    assert count_segments(text).segments == 2
    assert count_segments(normalize_sms(text)).encoding == "GSM-7"
    assert count_segments(normalize_sms(text)).segments == 1


def test_normalize_maps_dashes_quotes_and_ellipsis() -> None:
    assert normalize_sms("“Hi” – it’s… here") == '"Hi" - it\'s... here'


_gsm_basic = st.text(alphabet=sorted(GSM7_BASIC - {"\r", "\n"}), max_size=500)
_bmp_cjk = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=300)


@given(_gsm_basic)
def test_gsm_segments_follow_160_153(text: str) -> None:
    n = len(text)
    expected = 0 if n == 0 else 1 if n <= 160 else -(-n // 153)
    assert count_segments(text).segments == expected


@given(_bmp_cjk)
def test_ucs2_segments_follow_70_67(text: str) -> None:
    n = len(text)
    expected = 0 if n == 0 else 1 if n <= 70 else -(-n // 67)
    assert count_segments(text).segments == expected


@given(st.text(alphabet=sorted(GSM7_EXTENSION), min_size=1, max_size=200))
def test_extension_chars_cost_two_septets(text: str) -> None:
    assert count_segments(text).units == 2 * len(text)
