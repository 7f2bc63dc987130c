"""Offline token counting: exact counts for the bundled encoding, documented fallbacks, never the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from copyloom.contracts import tokens
from copyloom.contracts.tokens import (
    DEFAULT_ENCODING,
    TokenCounter,
    count_tokens,
    get_token_counter,
)


@pytest.fixture(autouse=True)
def _empty_tiktoken_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an empty cache dir: o200k_base cannot be on disk, so the fallback path is what is exercised
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken"))
    tokens.get_token_counter.cache_clear()
    tokens.load_encoding.cache_clear()


def test_default_counter_counts_known_cl100k_tokens() -> None:
    counter = get_token_counter(None)
    assert isinstance(counter, TokenCounter)
    assert counter.encoding_name == "cl100k_base"
    assert counter.note is None
    # "hello world" is two tokens in cl100k_base: [15339, 1917]
    assert counter.count_tokens("hello world") == 2
    assert counter.count_tokens("") == 0


def test_chinese_text_counts_more_than_zero_tokens() -> None:
    assert count_tokens("春季新品，全场八折") > 3


def test_special_token_text_is_counted_not_rejected() -> None:
    assert count_tokens("before <|endoftext|> after") > 3


def test_gpt4o_without_local_o200k_falls_back_with_note() -> None:
    counter = get_token_counter("gpt-4o-mini")
    assert counter.encoding_name == DEFAULT_ENCODING
    assert counter.note is not None and "o200k_base" in counter.note


def test_provider_prefixed_o_series_model_is_recognised() -> None:
    counter = get_token_counter("openai:o3-mini")
    assert counter.note is not None and "o200k_base" in counter.note


def test_gpt4_model_is_exact_without_note() -> None:
    counter = get_token_counter("openai:gpt-4-turbo")
    assert counter.encoding_name == "cl100k_base"
    assert counter.note is None


def test_unknown_model_uses_documented_default_and_says_so() -> None:
    counter = get_token_counter("qwen2.5:7b-instruct")
    assert counter.encoding_name == DEFAULT_ENCODING
    assert counter.note is not None and "qwen2.5:7b-instruct" in counter.note


def test_memoized_counts_equal_the_encoding_s_on_short_and_long_texts() -> None:
    counter = get_token_counter("gpt-4o-mini")
    assert isinstance(counter, tokens.TiktokenCounter)
    short = "Titanium Cook Pot 900ml, $59.00 <|endoftext|> 钛锅"
    long = "Trail boots for wet weather. " * 40  # past the memo's length: counted, not kept
    for text in (short, short, long, long):
        assert counter.count_tokens(text) == len(counter.encoding.encode_ordinary(text))
    assert counter.count_tokens("") == 0
