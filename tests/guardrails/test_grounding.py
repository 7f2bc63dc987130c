"""Grounding: tables of drafts whose risky values match (pass) or contradict (block) the bundle."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from copyloom.guardrails.grounding import check_grounding
from copyloom.guardrails.types import Verdict
from tests.guardrails.factories import bundle, ctx, sms

EN_PASS = [
    "Northwind: 20% off Merino Crew Socks ($18.50) with code WINTER20 until Dec 31.",
    "Northwind: socks now $14.80 (20% off) with WINTER20: https://northwind.example/winter",
    "Northwind: your Pegasus 40 from Oct 2 deserves fresh socks. Ends 12/31.",
    "Northwind: winter offer ends December 31st, 2025. Use code WINTER20.",
    "Northwind: see northwind.example/p/merino-crew-socks for Merino Crew Socks.",
    "Northwind: layers and socks for the cold snap. Reply STOP to opt out",
]
EN_BLOCK = [
    ("Northwind: 30% off socks with code WINTER20.", "percent_not_in_facts"),
    ("Northwind: Merino Crew Socks now just $9.99!", "price_not_in_facts"),
    ("Northwind: Merino Crew Socks for £18.50.", "price_not_in_facts"),
    ("Northwind: use code FREESHIP25 today.", "code_not_in_facts"),
    ("Northwind: use code WELCOME at checkout.", "code_not_in_facts"),
    ("Northwind: offer ends Jan 15.", "date_not_in_facts"),
    ("Northwind: offer ended Dec 21, 2024.", "date_not_in_facts"),
    ("Northwind: tonight only, socks 20% off!", "time_claim_unsupported"),
    ("Northwind: try the Summit Down Jacket.", "product_not_in_bundle"),
    ("Northwind: loved your Pegasus 41? Meet its socks.", "product_near_miss"),
    ("Northwind: loved your Pegasos 40? Meet its socks.", "product_near_miss"),
    ("Northwind: deals at https://northwind-deals.example/x", "url_not_allowed"),
    ("Northwind: deals at http://bit.ly/abc123", "url_not_allowed"),
]
ZH_PASS = [
    "【Northwind】小美，新年85折，使用优惠码NY2026，12月31日截止。",
    "【Northwind】您的飞马40跑鞋（¥699）还好吗？新年85折。",
    "【Northwind】新年优惠今晚截止，85折，优惠码NY2026。",
]
ZH_BLOCK = [
    ("【Northwind】新年7折，使用优惠码NY2026。", "percent_not_in_facts"),
    ("【Northwind】使用优惠码VIP888立减。", "code_not_in_facts"),
    ("【Northwind】飞马41跑鞋到货了。", "product_near_miss"),
    ("【Northwind】开拓者雨衣上新。", "product_not_in_bundle"),
    ("【Northwind】新年优惠1月15日截止。", "date_not_in_facts"),
    ("【Northwind】飞马40跑鞋仅需199元。", "price_not_in_facts"),
]


@pytest.mark.parametrize("text", EN_PASS)
def test_grounded_english_drafts_pass(text: str) -> None:
    r = check_grounding(sms(text), ctx())
    assert r.verdict is Verdict.PASS, r.message


@pytest.mark.parametrize(("text", "code"), EN_BLOCK)
def test_ungrounded_english_values_block(text: str, code: str) -> None:
    r = check_grounding(sms(text), ctx())
    assert r.verdict is Verdict.BLOCK
    assert code in {e.reason_code for e in r.evidence}, r.message


@pytest.mark.parametrize("text", ZH_PASS)
def test_grounded_chinese_drafts_pass(text: str) -> None:
    # 23:00 Shanghai on Dec 31 is still before the offer's end (23:59 local): "今晚截止" is true.
    send = datetime(2025, 12, 31, 10, 0, tzinfo=UTC)
    r = check_grounding(sms(text), ctx(bundle("zh"), send_at=send))
    assert r.verdict is Verdict.PASS, r.message


@pytest.mark.parametrize(("text", "code"), ZH_BLOCK)
def test_ungrounded_chinese_values_block(text: str, code: str) -> None:
    r = check_grounding(sms(text), ctx(bundle("zh")))
    assert r.verdict is Verdict.BLOCK
    assert code in {e.reason_code for e in r.evidence}, r.message


def test_tonight_claim_false_the_day_before_the_offer_ends() -> None:
    r = check_grounding(
        sms("【Northwind】新年优惠今晚截止。"), ctx(bundle("zh"), send_at=datetime(2025, 12, 29, 10, tzinfo=UTC))
    )
    assert r.reason_code == "time_claim_unsupported"


# Sent 2025-12-30 15:00 UTC; WINTER20 ends 2025-12-31 23:59 UTC: 33 hours left. (zh: NY2026 ends 15:59, 25 h.)
@pytest.mark.parametrize(
    ("text", "zh", "holds"),
    [
        ("Northwind: last days of WINTER20, 20% off socks.", False, True),  # not "last day"
        ("Northwind: last day of WINTER20, 20% off socks.", False, False),
        ("Northwind: 2 days left for 20% off socks with WINTER20.", False, True),
        ("Northwind: one day left for 20% off socks with WINTER20.", False, True),  # rounded down by one unit
        ("Northwind: only 2 hours left for 20% off socks with WINTER20.", False, False),
        ("Northwind: WINTER20 ends in 3 days.", False, False),
        ("Northwind: 48 hours left for WINTER20.", False, False),
        ("【Northwind】新年85折仅剩2小时！", True, False),
        ("【Northwind】新年85折还剩两天。", True, True),
    ],
)
def test_time_left_claims_must_match_the_offer_end(text: str, zh: bool, holds: bool) -> None:
    r = check_grounding(sms(text), ctx(bundle("zh")) if zh else ctx())
    unsupported = "time_claim_unsupported" in {e.reason_code for e in r.evidence}
    assert unsupported is not holds, r.message


def test_deadline_already_past_at_send_time_blocks() -> None:
    r = check_grounding(sms("Northwind: WINTER20 ends Dec 31."), ctx(send_at=datetime(2026, 1, 2, 15, tzinfo=UTC)))
    assert r.reason_code == "date_in_past"


def test_unknown_fact_id_blocks_and_evidence_names_the_span() -> None:
    r = check_grounding(sms("Northwind: 30% off.", fact_ids=["offer:NOPE"]), ctx())
    codes = {e.reason_code for e in r.evidence}
    assert {"unknown_fact_id", "percent_not_in_facts"} <= codes
    span = next(e for e in r.evidence if e.reason_code == "percent_not_in_facts")
    assert (span.field, span.text, span.start) == ("text", "30%", 11)


def test_brand_domain_links_are_allowed() -> None:
    c = ctx(brand_domains=("northwind.example",))
    assert check_grounding(sms("Northwind: https://www.northwind.example/stores"), c).verdict is Verdict.PASS
