"""The independent claims set (``evals/claims_set.jsonl``) is well formed: it loads, every row validates against
its bundle, and it keeps its size, language and label shares. Its good drafts are sendable by the channel limits of
DOMAIN.md, measured here on their own (not by the guardrails under evaluation). Not a test of the checks' scores.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter

import pytest
from evals.run_guardrails import eval_claims, load_claims, main

from copyloom.contracts.facts import FactsBundle
from copyloom.contracts.variants import Variant

# GSM 03.38 basic set and extension table (an extension character costs two septets).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = frozenset("^{}\\[~]|€\f")
# DOMAIN.md soft limits in display columns (a CJK character takes two).
_WIDTH_LIMITS = {
    "email": {"subject": 50, "preheader": 85, "cta_text": 20},
    "push": {"title": 40, "body": 130},
    "in_app": {"title": 40, "body": 140, "cta_text": 20},
    "web": {"headline": 40, "subhead": 140, "cta_text": 20},
}
_BAD_CLASSES = {
    "price_swap",
    "offer_scope",
    "offer_ineligible",
    "stacked_discount",
    "bogo_invented",
    "invented_perk",
    "wrong_end_date",
    "wrong_weekday",
    "relative_time_lie",
    "near_miss_product",
    "wrong_tier",
    "note_injection",
    "sensitive_inference",
    "invented_history",
    "wrong_name",
    "foreign_url",
    "wrong_language",
}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _sms_segments(text: str) -> int:
    if all(c in _GSM_BASIC or c in _GSM_EXT for c in text):
        septets = sum(2 if c in _GSM_EXT else 1 for c in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def _sendable_problems(content: dict[str, str], bundle: FactsBundle) -> list[str]:
    channel = content["channel"]
    zh = bundle.locale.startswith("zh")
    problems = []
    if channel in ("sms", "whatsapp"):
        text = content["text"]
        if bundle.brand.name not in text:
            problems.append("no brand name")
        if ("退订" if zh else "STOP") not in text:
            problems.append("no opt-out")
        if channel == "sms" and _sms_segments(text) > bundle.brand.policies.sms_max_segments:
            problems.append(f"{_sms_segments(text)} segments")
    for name, limit in _WIDTH_LIMITS.get(channel, {}).items():
        if not 0 < _width(content[name]) <= limit:
            problems.append(f"{name} is {_width(content[name])} columns (limit {limit})")
    if channel == "email" and _width(content["preheader"]) < 40:
        problems.append("preheader shorter than 40 columns")
    return problems


def test_claims_set_rows_validate_against_their_bundles() -> None:
    rows, bundles, _ = load_claims()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for row in rows:
        bundle = bundles[row["bundle"]]
        Variant.model_validate({"angle": row["id"], "fact_ids": row["fact_ids"], "content": row["content"]})
        assert set(row["fact_ids"]) <= bundle.ids(), (row["id"], set(row["fact_ids"]) - bundle.ids())
        assert row["label"] in ("good", "bad") and row["class"] and row["note"], row["id"]
        assert (row["expect"] is None) == (row["label"] == "good"), row["id"]


def test_claims_set_size_language_and_label_shares() -> None:
    rows, bundles, _ = load_claims()
    zh = sum(bundles[r["bundle"]].locale.startswith("zh") for r in rows)
    good = sum(r["label"] == "good" for r in rows)
    assert len(rows) >= 220
    assert zh >= 0.4 * len(rows)
    assert good >= 90
    assert {r["content"]["channel"] for r in rows} == {"sms", "email", "push", "whatsapp", "in_app", "web"}
    per_class = Counter(r["class"] for r in rows if r["label"] == "bad")
    assert set(per_class) >= _BAD_CLASSES, _BAD_CLASSES - set(per_class)
    assert min(per_class[c] for c in _BAD_CLASSES) >= 4


def test_claims_set_good_drafts_are_sendable_by_channel_limits() -> None:
    rows, bundles, _ = load_claims()
    problems = {
        r["id"]: p
        for r in rows
        if r["label"] == "good" and (p := _sendable_problems(r["content"], bundles[r["bundle"]]))
    }
    assert problems == {}


def test_the_width_and_segment_rulers_here_are_themselves_right() -> None:
    assert (_width("Pegasus 40"), _width("峰顶羽绒服"), _width("【】")) == (10, 10, 4)
    assert (_sms_segments("a" * 160), _sms_segments("a" * 161), _sms_segments("{" * 80)) == (1, 2, 1)
    assert (_sms_segments("{" * 81), _sms_segments("退" * 70), _sms_segments("退" * 71)) == (2, 1, 2)


def test_claims_runner_reports_every_draft_and_class(capsys: pytest.CaptureFixture[str]) -> None:
    rows, _, _ = load_claims()
    runs = eval_claims()
    assert [r.id for r in runs] == [r["id"] for r in rows]
    assert main(["--set", "claims"]) == 0
    out = capsys.readouterr().out
    assert all(f"\n{cls} " in out for cls in {r["class"] for r in rows})
    for scope in ("all", "en", "zh"):
        assert any(line.startswith(f"totals {scope}: bad blocked ") for line in out.splitlines()), scope


def test_second_claims_set_rows_validate_and_cover_every_class() -> None:
    rows, bundles, _ = load_claims("claims2")
    assert len({r["id"] for r in rows}) == len(rows) >= 80
    for row in rows:
        bundle = bundles[row["bundle"]]
        Variant.model_validate({"angle": row["id"], "fact_ids": row["fact_ids"], "content": row["content"]})
        assert set(row["fact_ids"]) <= bundle.ids(), (row["id"], set(row["fact_ids"]) - bundle.ids())
        assert (row["expect"] is None) == (row["label"] == "good"), row["id"]
    assert {r["class"] for r in rows if r["label"] == "bad"} >= _BAD_CLASSES
    assert sum(bundles[r["bundle"]].locale.startswith("zh") for r in rows) >= 0.4 * len(rows)
    assert [r.id for r in eval_claims("claims2")] == [r["id"] for r in rows]
