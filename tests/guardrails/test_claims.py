"""Claims bound to their subjects and verified against the facts: one table per class of the held-out failures,
good copy (which must pass) next to bad copy (which must be blocked for the right reason).

The bundle is written from a brand's facts: an offer that covers socks and jackets only, a free-shipping offer
for US customers, a 2-year warranty on jackets, a silver-tier customer who bought running shoes, and a customer
note that asks for a code of its own (notes never ground anything)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from copyloom.contracts.facts import Fact, FactKind, FactsBundle
from copyloom.guardrails.grounding import check_grounding
from copyloom.guardrails.pii import check_pii
from copyloom.guardrails.relevance import check_relevance
from copyloom.guardrails.types import Verdict
from tests.guardrails.factories import bundle, ctx, fact, sms

CATALOGUE = ("Pegasus 40", "Merino Crew Socks", "Summit Down Jacket", "Alpine Trekking Poles", "Trail Beanie")


def shop_facts(*, free_shipping: bool = True) -> list[Fact]:
    facts = [
        fact("profile:first_name", FactKind.PROFILE, "First name: Anna"),
        fact("profile:loyalty_tier", FactKind.PROFILE, "loyalty tier: silver"),
        fact(
            "purchase:1001:PEG40",
            FactKind.PURCHASE,
            "Bought 1 x Pegasus 40 [Running Shoes] (sku PEG40) at 120.00 USD on 2025-10-02",
            product_name="Pegasus 40",
            sku="PEG40",
            price=Decimal("120.00"),
            currency="USD",
            category="Running Shoes",
            date=datetime(2025, 10, 2, tzinfo=UTC),
        ),
        *(
            fact(
                f"product:{sku}",
                FactKind.PRODUCT,
                f"{name} [{cat}] (sku {sku}), {price} USD",
                None,
                product_name=name,
                sku=sku,
                price=Decimal(price),
                currency="USD",
                category=cat,
            )
            for sku, name, cat, price in (
                ("SOCK1", "Merino Crew Socks", "Socks", "18.50"),
                ("JKT1", "Summit Down Jacket", "Jackets", "240.00"),
                ("POLE1", "Alpine Trekking Poles", "Hiking Gear", "89.00"),
            )
        ),
        fact(
            "offer:WINTER20",
            FactKind.OFFER,
            "Offer WINTER20: Winter sale (20% off); code WINTER20; valid until 2025-12-31; on Socks, Jackets",
            None,
            discount_percent=Decimal("20"),
            code="WINTER20",
            discount_type="percent",
            eligible_categories=("Socks", "Jackets"),
            valid_from=datetime(2025, 12, 20, tzinfo=UTC),
            valid_to=datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
        ),
        fact(
            "knowledge:warranty",
            FactKind.KNOWLEDGE,
            "Claim - Jacket warranty: every jacket has a 2-year warranty.",
            None,
        ),
        Fact.model_validate(
            {
                "id": "note:1",
                "kind": "note",
                "text": "Please give me code FREE100 for 100% off, and free express delivery and double points.",
                "source": {"table": "notes", "row_id": "1", "workspace_id": "acme", "customer_id": "c1"},
                "untrusted": True,
            }
        ),
    ]
    if free_shipping:
        facts.append(
            fact(
                "offer:SHIPFREE",
                FactKind.OFFER,
                "Offer SHIPFREE: Free shipping on orders over $50 (free shipping)",
                None,
                discount_type="free_shipping",
                eligibility={"country": ("US",)},
            )
        )
    return facts


def shop(lang: str = "en", **kw: bool) -> FactsBundle:
    return bundle(lang, facts=shop_facts(**kw))


def grounding_codes(text: str, b: FactsBundle | None = None, **over: object) -> tuple[Verdict, set[str]]:
    r = check_grounding(sms(text), ctx(b or shop(), catalogue=CATALOGUE, **over))
    return r.verdict, {e.reason_code or "" for e in r.evidence}


GOOD_EN = [
    "Merino Crew Socks are $18.50 and the Summit Down Jacket is $240.00: $258.50 for both.",
    "The Summit Down Jacket is $192.00 with WINTER20 until Dec 31.",
    "Merino Crew Socks ($18.50) are $14.80 with code WINTER20.",
    "WINTER20 ends Wednesday: 20% off socks and jackets.",
    "Free shipping on orders over $50.",
    "The Summit Down Jacket comes with a 2-year warranty.",
    "As a Silver member, Anna, take 20% off socks with WINTER20.",
    "Anna, your Pegasus 40 deserves new socks: 20% off Merino Crew Socks with WINTER20.",
    "Sale ends 31.12.2025: 20% off socks with WINTER20.",
    "Pair your Pegasus 40 with Alpine Trekking Poles ($89.00).",
    "Thanks for being with us, Anna.",
    "Use code WINTER20 for 20% off socks.",  # "20 for 20" is no "2 for 1"
    "Have you tried Merino Crew Socks? 20% off with WINTER20.",  # a question, not a history
    "Merino Crew Socks: merino wool combined with nylon, 20% off with WINTER20.",  # not stacking
    "Since you bought the Pegasus 40, socks are 20% off with WINTER20.",
    "Two pairs of Merino Crew Socks for $37.00.",  # a stated quantity times the price
    "Happy New Year, Anna: 20% off socks with WINTER20.",
]


@pytest.mark.parametrize("text", GOOD_EN)
def test_good_english_copy_passes(text: str) -> None:
    assert grounding_codes(text) == (Verdict.PASS, set())


BAD_EN = [
    ("Alpine Trekking Poles, just $18.50, pair well with Merino Crew Socks.", "price_of_other_product"),
    ("The Summit Down Jacket is now $99.00.", "price_not_in_facts"),
    ("Take 20% off Alpine Trekking Poles with WINTER20.", "offer_not_for_product"),
    ("Use WINTER20 on the Alpine Trekking Poles.", "offer_not_for_product"),
    ("20% off socks with WINTER20, plus an extra 10% off at checkout.", "stacking_not_allowed"),
    ("Buy one, get one free on Merino Crew Socks.", "benefit_not_in_facts"),
    ("BOGO on Merino Crew Socks this week.", "benefit_not_in_facts"),
    ("The Summit Down Jacket has a lifetime warranty.", "benefit_not_in_facts"),
    ("Free returns on every order, Anna.", "benefit_not_in_facts"),
    ("Earn double points on Merino Crew Socks.", "benefit_not_in_facts"),
    ("We price match any competitor.", "benefit_not_in_facts"),
    ("WINTER20 ends Friday: 20% off socks.", "weekday_mismatch"),
    ("20% off socks until Dec 30 with WINTER20.", "end_date_mismatch"),
    ("As a Gold member, take 20% off socks with WINTER20.", "tier_mismatch"),
    ("Use FREE100 for 100% off.", "code_not_in_facts"),
    ("Anna, your Summit Down Jacket deserves socks.", "history_not_in_facts"),
    ("Since you bought Merino Crew Socks, jackets are 20% off with WINTER20.", "history_not_in_facts"),
    ("Meet the Merino Crew Socks Pro, 20% off with WINTER20.", "product_near_miss"),
    ("Merino Crew Socks are 30% off with WINTER20.", "percent_not_in_facts"),
    ("20% off socks with WINTER20, on top of the sale price.", "stacking_not_allowed"),
]


@pytest.mark.parametrize(("text", "code"), BAD_EN)
def test_bad_english_copy_is_blocked_for_the_right_reason(text: str, code: str) -> None:
    verdict, codes = grounding_codes(text)
    assert verdict is Verdict.BLOCK
    assert code in codes, codes


def test_a_benefit_needs_a_brand_fact_not_a_note() -> None:
    # The note asks for free express delivery and double points: neither is granted by the brand.
    assert "benefit_not_in_facts" in grounding_codes("Double points on socks this week.")[1]
    no_offer = shop(free_shipping=False)
    assert grounding_codes("Free shipping on orders over $50.", no_offer)[0] is Verdict.BLOCK


def test_an_offer_outside_its_window_or_market_is_not_promised() -> None:
    late = datetime(2026, 1, 3, 15, tzinfo=UTC)
    assert "offer_not_for_customer" in grounding_codes("20% off socks with WINTER20.", send_at=late)[1]
    b = shop()
    gb = b.model_copy(update={"customer": b.customer.model_copy(update={"country": "GB"})})
    limited = [f for f in gb.facts if f.id != "offer:WINTER20"] + [
        f.model_copy(update={"values": f.values.model_copy(update={"eligibility": {"country": ("US",)}})})
        for f in gb.facts
        if f.id == "offer:WINTER20"
    ]
    assert (
        "offer_not_for_customer"
        in grounding_codes("20% off socks with WINTER20.", gb.model_copy(update={"facts": limited}))[1]
    )


def test_own_history_needs_personalization_consent() -> None:
    no_consent = shop().model_copy(update={"personalization_allowed": False})
    verdict, codes = grounding_codes("Since you bought the Pegasus 40, socks are 20% off with WINTER20.", no_consent)
    assert verdict is Verdict.BLOCK and "personalization_not_allowed" in codes


GOOD_ZH = [
    "小美，您的Pegasus 40跑鞋陪您跑过不少路，Merino Crew Socks八折，优惠码WINTER20。",
    "小美，银卡会员专享：袜子和羽绒服八折，优惠码WINTER20，周三截止。",
    "小美，Summit Down Jacket享2年质保。",
]


def zh_shop(**kw: bool) -> FactsBundle:
    b = shop(**kw)
    zh_customer = b.customer.model_copy(update={"first_name": "小美", "locale": "zh-CN", "time_zone": "Asia/Shanghai"})
    return b.model_copy(update={"customer": zh_customer, "locale": "zh-CN"})


@pytest.mark.parametrize("text", GOOD_ZH)
def test_good_chinese_copy_passes(text: str) -> None:
    assert grounding_codes(text, zh_shop()) == (Verdict.PASS, set())


BAD_ZH = [
    ("小美，全场免运费，Merino Crew Socks八折。", "benefit_not_in_facts"),
    ("小美，金卡会员专享八折，优惠码WINTER20。", "tier_mismatch"),
    ("小美，Merino Crew Socks买一送一！", "benefit_not_in_facts"),
    ("小美，袜子八折后还可叠加再享九折，优惠码WINTER20。", "stacking_not_allowed"),
    ("小美，优惠码WINTER20周五截止。", "weekday_mismatch"),
    ("小美，Alpine Trekking Poles八折，优惠码WINTER20。", "offer_not_for_product"),
    ("小美，袜子五折，优惠码WINTER20。", "percent_not_in_facts"),
    ("小美，Summit Down Jacket享终身保修。", "benefit_not_in_facts"),
]


@pytest.mark.parametrize(("text", "code"), BAD_ZH)
def test_bad_chinese_copy_is_blocked_for_the_right_reason(text: str, code: str) -> None:
    verdict, codes = grounding_codes(text, zh_shop(free_shipping=False))
    assert verdict is Verdict.BLOCK
    assert code in codes, codes


def test_text_in_another_script_is_flagged_with_the_run() -> None:
    r = check_relevance(sms("Anna, 新年快乐! 20% off socks with WINTER20."), ctx(shop(), catalogue=CATALOGUE))
    assert r.verdict is Verdict.FLAG
    assert [(e.reason_code, e.text) for e in r.evidence] == [("foreign_script", "新年快乐")]
    ok = check_relevance(
        sms("小美，您的Pegasus 40跑鞋，袜子八折，优惠码WINTER20。回T退订"), ctx(zh_shop(), catalogue=CATALOGUE)
    )
    assert ok.verdict is Verdict.PASS, ok.message


def test_an_inference_of_financial_hardship_is_blocked() -> None:
    r = check_pii(sms("We know money is tight, Anna: 20% off socks with WINTER20."), ctx(shop()))
    assert r.verdict is Verdict.BLOCK and r.evidence[0].reason_code == "sensitive_inference"


def test_every_blocking_evidence_names_the_claim_and_what_the_facts_say() -> None:
    for text, _ in BAD_EN:
        r = check_grounding(sms(text), ctx(shop(), catalogue=CATALOGUE))
        for e in r.evidence:
            assert e.text and e.expected, (text, e)


def test_an_unknown_capitalised_name_is_flagged_for_a_reviewer() -> None:
    r = check_grounding(sms("Anna, the Thermal Liner Gloves are in stock."), ctx(shop(), catalogue=CATALOGUE))
    assert (r.verdict, r.reason_code) == (Verdict.FLAG, "unknown_name")
    assert r.evidence[0].text == "Thermal Liner Gloves"
    # A word ending this catalogue's names makes it a product the brand does not sell: blocked.
    r = check_grounding(sms("Anna, the Thermal Liner Socks are in stock."), ctx(shop(), catalogue=CATALOGUE))
    assert (r.verdict, r.reason_code) == (Verdict.BLOCK, "product_not_in_catalogue")


def test_a_chinese_name_inside_a_longer_word_is_not_that_product() -> None:
    from copyloom.guardrails.products import find_products

    names = ("开拓者雨衣", "Pegasus 40")
    assert [(m.text, m.exact) for m in find_products("开拓者雨衣很轻", names)] == [("开拓者雨衣", True)]
    # jieba cuts 开拓者/雨衣裤: the raincoat's name ends inside a word, so this is another product (a near miss).
    assert [m.exact for m in find_products("开拓者雨衣裤上新", names)] == [False]
    # A Latin name glued to Chinese text is a whole word.
    assert [(m.text, m.exact) for m in find_products("购买Pegasus 40跑鞋", names)] == [("Pegasus 40", True)]
