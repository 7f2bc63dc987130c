"""Relevance: goal, personalization consent, and language against the customer's locale."""

from __future__ import annotations

import pytest

from copyloom.contracts.enums import Goal
from copyloom.domain.brief import Brief
from copyloom.guardrails.relevance import check_relevance
from copyloom.guardrails.types import Verdict
from tests.guardrails.factories import bundle, ctx, sms

OFFER = "Northwind: Anna, 20% off socks with WINTER20. Reply STOP"


@pytest.mark.parametrize(
    ("text", "lang", "fact_ids", "goal", "verdict", "code"),
    [
        (OFFER, "en", ["profile:c1", "offer:WINTER20"], Goal.OFFER_ANNOUNCEMENT, Verdict.PASS, "ok"),
        ("Northwind: we miss you, Anna. Come back for socks.", "en", [], Goal.WIN_BACK, Verdict.PASS, "ok"),
        # Generic copy that uses no customer fact is fine: personalization is allowed, not required.
        ("Northwind: 20% off socks with WINTER20. Reply STOP", "en", [], Goal.OFFER_ANNOUNCEMENT, Verdict.PASS, "ok"),
        ("Northwind: Anna, socks are warm.", "en", [], Goal.EVENT_INVITE, Verdict.FLAG, "off_brief"),
        ("【Northwind】小美，新年85折。回T退订", "zh", ["profile:c2"], Goal.OFFER_ANNOUNCEMENT, Verdict.PASS, "ok"),
        (
            "Northwind: Happy new year, 20% off!",
            "zh",
            ["profile:c2"],
            Goal.OFFER_ANNOUNCEMENT,
            Verdict.BLOCK,
            "language_mismatch",
        ),
        (
            "【Northwind】安娜，新年85折优惠。",
            "en",
            ["profile:c1"],
            Goal.OFFER_ANNOUNCEMENT,
            Verdict.BLOCK,
            "language_mismatch",
        ),
    ],
)
def test_relevance_table(text: str, lang: str, fact_ids: list[str], goal: Goal, verdict: Verdict, code: str) -> None:
    r = check_relevance(sms(text, fact_ids), ctx(bundle(lang), brief=Brief(goal=goal)))
    assert (r.verdict, r.reason_code) == (verdict, code), r.message


def test_customer_facts_without_personalization_consent_block() -> None:
    c = ctx(bundle(personalization=False))
    assert check_relevance(sms(OFFER, ["offer:WINTER20"]), c).reason_code == "personalization_not_allowed"
    r = check_relevance(sms("Northwind: 20% off socks with WINTER20.", ["purchase:1001:1"]), c)
    assert r.verdict is Verdict.BLOCK
    assert check_relevance(sms("Northwind: 20% off socks with WINTER20.", ["offer:WINTER20"]), c).verdict is (
        Verdict.PASS
    )


def test_brief_offer_not_used_flags() -> None:
    # Briefs name offers by the brand's id; variants cite fact ids ("offer:<id>").
    c = ctx(brief=Brief(goal=Goal.OFFER_ANNOUNCEMENT, offer_ids=["WINTER20"]))
    r = check_relevance(sms("Northwind: Anna, warm socks for the new year. Reply STOP", ["profile:c1"]), c)
    assert "brief_offer_missing" in {e.reason_code for e in r.evidence}
    assert check_relevance(sms(OFFER, ["profile:c1", "offer:WINTER20"]), c).reason_code != "brief_offer_missing"
    # Naming the offer's code (or its rate) uses it, cited or not.
    assert check_relevance(sms(OFFER, ["profile:c1"]), c).reason_code != "brief_offer_missing"


def test_a_cross_sell_citing_a_catalogue_product_is_on_brief_whatever_its_words() -> None:
    text = "Northwind: Merino Crew Socks are $18.50 now. Reply STOP to opt out"
    cross_sell = ctx(brief=Brief(goal=Goal.CROSS_SELL))
    with_product = check_relevance(sms(text, ["profile:c1", "product:SOCK1"]), cross_sell)
    assert "off_brief" not in {with_product.reason_code} | {e.reason_code for e in with_product.evidence}
    without = check_relevance(sms("Northwind: warm wishes, Anna. Reply STOP to opt out", ["profile:c1"]), cross_sell)
    assert "off_brief" in without.message or without.reason_code == "off_brief"
