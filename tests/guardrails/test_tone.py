"""Tone and brand: banned phrases, Chinese superlatives, exclamations, emoji, shouting, deceptive subjects,
profanity (alt-profanity-check's model, evaluated directly) and competitor names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copyloom.guardrails import profanity
from copyloom.guardrails.profanity import profanity_probability
from copyloom.guardrails.tone import check_tone
from copyloom.guardrails.types import Verdict
from tests.guardrails.factories import bundle, ctx, email, sms

PASS = [
    "Northwind: Anna, fresh Merino Crew Socks for winter walks. Reply STOP to opt out",
    "Northwind: your first pair of trail socks is waiting. Use WINTER20!",
    "【Northwind】小美，这是您的第一双羊毛袜，新年85折。回T退订",
    "Northwind: 20% off - NEW arrivals in store. Reply STOP",
    "Northwind: kill the cold on your next trail run.",
]
BLOCK = [
    ("Northwind: guaranteed warm feet or your money back.", "banned_phrase"),
    ("Northwind: a MIRACLE for cold toes.", "banned_phrase"),
    ("【Northwind】全网最佳羊毛袜，新年85折。", "superlative_zh"),
    ("【Northwind】国家级品质，顶级面料。", "superlative_zh"),
    ("【Northwind】销量第一的羊毛袜。", "superlative_zh"),
    ("Northwind: warmer than anything from Patagonia.", "competitor_mention"),
    ("Northwind: these socks are the shit, damn it.", "profanity"),
    ("【Northwind】他妈的太便宜了。", "profanity"),
]
FLAG = [
    ("Northwind: socks!! Now!! Go!!", "too_many_exclamations"),
    ("Northwind: BIG WINTER SALE on socks today.", "shouting"),
    ("Northwind: socks 🧦🧦🔥❄️ for you.", "emoji"),
]


@pytest.mark.parametrize("text", PASS)
def test_on_brand_copy_passes(text: str) -> None:
    b = bundle("zh") if "【" in text else bundle()
    r = check_tone(sms(text), ctx(b))
    assert r.verdict is Verdict.PASS, r.message


@pytest.mark.parametrize(("text", "code"), BLOCK)
def test_brand_and_legal_violations_block(text: str, code: str) -> None:
    b = bundle("zh") if "【" in text else bundle()
    r = check_tone(sms(text), ctx(b))
    assert r.verdict is Verdict.BLOCK
    assert code in {e.reason_code for e in r.evidence}, r.message


@pytest.mark.parametrize(("text", "code"), FLAG)
def test_matters_of_taste_flag(text: str, code: str) -> None:
    r = check_tone(sms(text), ctx())
    assert r.verdict is Verdict.FLAG
    assert code in {e.reason_code for e in r.evidence}, r.message
    assert r.repairable


def test_emoji_block_when_brand_says_never() -> None:
    r = check_tone(sms("Northwind: socks 🧦 for you."), ctx(bundle(brand_over={"emoji_policy": "never"})))
    assert r.verdict is Verdict.BLOCK and r.reason_code == "emoji"


@pytest.mark.parametrize("subject", ["RE: your order", "Fwd: socks for you", "回复：您的订单"])
def test_fake_reply_subjects_are_deceptive(subject: str) -> None:
    r = check_tone(email(subject, "Socks are here."), ctx(channel="email"))
    assert r.reason_code == "deceptive_subject"


def test_urgency_subject_needs_an_offer_ending_soon() -> None:
    draft = email("Last chance: warm socks", "Socks are here.")
    assert check_tone(draft, ctx(channel="email")).verdict is Verdict.PASS  # WINTER20 ends Dec 31
    later = ctx(channel="email", send_at=datetime(2026, 2, 1, tzinfo=UTC))
    assert check_tone(draft, later).reason_code == "unsupported_urgency"


def test_formal_brand_flags_casual_words() -> None:
    r = check_tone(sms("Northwind: hey, gonna be cold."), ctx(bundle(brand_over={"formality": "formal"})))
    assert r.verdict is Verdict.FLAG and r.reason_code == "too_casual"


@pytest.mark.parametrize(
    "text", ["hello there friend", "what the fuck is this shit", "damn good deal", "Reply STOP to opt out", ""]
)
def test_fast_profanity_score_equals_the_library(text: str) -> None:
    from profanity_check import predict_prob

    assert profanity_probability(text) == pytest.approx(float(predict_prob([text])[0]), abs=1e-9)


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    profanity._model.cache_clear()
    yield tmp_path / "copyloom"
    profanity._model.cache_clear()  # later tests load from the real cache again


def test_the_profanity_weights_are_cached_and_read_back_exactly(fresh_cache: Path) -> None:
    from_library = profanity._model()
    (cached,) = fresh_cache.glob("profanity-*.json")
    profanity._model.cache_clear()
    from_cache = profanity._model()
    assert from_cache is not from_library
    assert from_cache == from_library  # every weight bit for bit, the token pattern, the stop words
    assert "sklearn" not in cached.read_text(encoding="utf-8")  # plain numbers, nothing to unpickle


def test_a_damaged_profanity_cache_falls_back_to_the_library(fresh_cache: Path) -> None:
    good = profanity._model()
    (cached,) = fresh_cache.glob("profanity-*.json")
    cached.write_text('{"weights": {"damn": [1.0, [0.5]]}, "intercepts": [0.1, 0.2]', encoding="utf-8")
    profanity._model.cache_clear()
    assert profanity._model() == good
    assert profanity._from_json(json.loads(cached.read_text(encoding="utf-8"))) == good  # rewritten whole
