"""Claims on copy nobody tuned the checks for (issue 12): one case per failure class, in English and Chinese, on a
brand whose facts look like what retrieval builds (structured offer scopes in categories, order lines that carry
only their sku, Chinese categories). Good copy must pass the whole suite without a block; bad copy must be blocked
for its own reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from copyloom.contracts.facts import Fact, FactKind, FactsBundle
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.pipeline import run_checks
from copyloom.guardrails.types import Verdict
from tests.guardrails.factories import bundle, ctx, fact, variant

SEND_AT = datetime(2025, 12, 26, 15, 0, tzinfo=UTC)  # a Friday
CATALOGUE = (
    "Merino Crew Socks",
    "Summit Down Jacket",
    "Alpine Trekking Poles",
    "Ridge Wool Beanie",
    "峰顶羽绒服",
    "美利奴羊毛袜",
    "阿尔卑斯登山杖",
    "Pegasus 40",
)


def _product(sku: str, name: str, cat: str, price: str, cur: str) -> Fact:
    return fact(
        f"product:{sku}",
        FactKind.PRODUCT,
        f"{name} [{cat}] (sku {sku}), {price} {cur}",
        None,
        product_name=name,
        sku=sku,
        price=Decimal(price),
        currency=cur,
        category=cat,
    )


def _offer(code: str, pct: str, until: datetime, **values: Any) -> Fact:
    cats = values.get("eligible_categories", ())
    scope = f"; on {', '.join(cats)}" if cats else ""
    return fact(
        f"offer:{code}",
        FactKind.OFFER,
        f"Offer {code}: ({pct}% off); code {code}; valid until {until.date()}{scope}",
        None,
        code=code,
        discount_percent=Decimal(pct),
        discount_type="percent",
        valid_from=datetime(2025, 12, 1, tzinfo=UTC),
        valid_to=until,
        **values,
    )


DEC31 = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)  # a Wednesday


def en_facts() -> list[Fact]:
    return [
        fact("profile:first_name", FactKind.PROFILE, "First name: Anna"),
        fact("profile:loyalty_tier", FactKind.PROFILE, "loyalty tier: silver"),
        fact(  # an order line without a product name: the facts show only the sku
            "purchase:9001:POLE1",
            FactKind.PURCHASE,
            "Bought 1 x POLE1 (sku POLE1) at 89.00 USD on 2025-11-02",
            product_name="POLE1",
            sku="POLE1",
            price=Decimal("89.00"),
            currency="USD",
            date=datetime(2025, 11, 2, tzinfo=UTC),
        ),
        _product("SOCK1", "Merino Crew Socks", "Socks", "18.50", "USD"),
        _product("JKT1", "Summit Down Jacket", "Jackets", "240.00", "USD"),
        _product("POLE1", "Alpine Trekking Poles", "Hiking Gear", "89.00", "USD"),
        _offer("WINTER20", "20", DEC31, eligible_categories=("Jackets", "Socks")),
        _offer("GOLD25", "25", datetime(2025, 12, 21, 23, 59, tzinfo=UTC), eligibility={"tier": ("gold",)}),
        fact("knowledge:warranty", FactKind.KNOWLEDGE, "Policy - Warranty: jackets carry a 2-year warranty.", None),
    ]


def zh_facts() -> list[Fact]:
    return [
        fact("profile:first_name", FactKind.PROFILE, "First name: 小美", "c2"),
        fact("profile:loyalty_tier", FactKind.PROFILE, "loyalty tier: silver", "c2"),
        fact(
            "purchase:9101:PEG40",
            FactKind.PURCHASE,
            "Bought 1 x PEG40 (sku PEG40) at 899.00 CNY on 2025-11-18",
            "c2",
            product_name="PEG40",
            sku="PEG40",
            price=Decimal("899.00"),
            currency="CNY",
            date=datetime(2025, 11, 18, tzinfo=UTC),
        ),
        _product("SDJ", "峰顶羽绒服", "外套", "1599.00", "CNY"),
        _product("SOCK", "美利奴羊毛袜", "袜子", "79.00", "CNY"),
        _product("TRP", "阿尔卑斯登山杖", "徒步", "459.00", "CNY"),
        _product("PEG40", "Pegasus 40", "跑鞋", "899.00", "CNY"),
        _offer("DONG20", "20", datetime(2025, 12, 31, 15, 59, tzinfo=UTC), eligible_categories=("外套",)),
        fact("knowledge:warranty", FactKind.KNOWLEDGE, "Policy - 保修: 羽绒服享有两年质量保修。", None),
    ]


def _ctx(lang: str, channel: str) -> CheckContext:
    b: FactsBundle = bundle(lang, facts=zh_facts() if lang == "zh" else en_facts())
    return ctx(b, channel, send_at=SEND_AT, catalogue=CATALOGUE, brand_domains=("northwind.example",))


def _verdict(lang: str, content: dict[str, str]) -> tuple[Verdict, set[str]]:
    report = run_checks(variant(content), _ctx(lang, content["channel"]))
    blocking = {e.reason_code or r.reason_code for r in report.blocking for e in r.evidence}
    blocking |= {r.reason_code for r in report.blocking}
    return report.verdict, blocking


def sms(text: str) -> dict[str, str]:
    return {"channel": "sms", "text": text}


def push(title: str, body: str) -> dict[str, str]:
    return {"channel": "push", "title": title, "body": body}


GOOD: list[tuple[str, str, dict[str, str]]] = [
    # own purchase named via the catalogue name of the bought sku
    (
        "own_purchase_en",
        "en",
        sms("Northwind: Anna, how are your Alpine Trekking Poles holding up? Reply STOP to opt out"),
    ),
    ("own_purchase_zh", "zh", push("您的Pegasus 40合脚吗？", "冬季跑步记得做好热身。")),
    # a price right after a Chinese name is that product's; sums and sale prices hold
    ("zh_price_glue_sum", "zh", push("暖到脚", "峰顶羽绒服1599元，搭配美利奴羊毛袜79元，两件合计1678元。")),
    ("zh_sale_price", "zh", push("峰顶羽绒服8折", "输入DONG20，峰顶羽绒服到手1279.2元，美利奴羊毛袜79元。")),
    ("en_saving", "en", push("Save $48.00 on the jacket", "With WINTER20 the Summit Down Jacket is $192.00.")),
]

GOOD += [
    # a weekday next to its date names that date's weekday; one alone is checked against the offer the draft names
    ("weekday_next_to_date_en", "en", push("20% off, until Wednesday Dec 31", "WINTER20 takes 20% off jackets.")),
    ("weekday_next_to_date_zh", "zh", sms("【Northwind】外套8折，优惠码DONG20，12月31日（周三）截止。回T退订")),
    ("weekday_of_named_offer", "en", push("Sale ends Wednesday", "WINTER20: 20% off jackets and socks.")),
]
GOOD += [
    ("zh_offer_in_scope", "zh", push("峰顶羽绒服8折", "冬季外套特惠，峰顶羽绒服用DONG20享8折，12月31日截止。")),
]
GOOD += [
    ("own_name_en", "en", sms("Northwind: Hi Anna, 20% off jackets with WINTER20 until Dec 31. Reply STOP to opt out")),
    ("greeting_no_name", "en", push("Hello again, explorer", "Warm layers for cold days.")),
    ("own_name_zh", "zh", sms("【Northwind】小美，您好！外套8折，输入DONG20。回T退订")),
    ("zh_head_word", "zh", push("黄金周，好物上新", "周末出门走走吧。")),
]
GOOD += [
    ("no_inference_en", "en", push("Easy on the climbs", "Alpine Trekking Poles spread the load on steep trails.")),
    ("no_inference_zh", "zh", push("告别选择困难", "羽绒服孕育于高山，峰顶羽绒服1599元。")),
]
GOOD += [
    ("zh_code_without_digits", "zh", sms("【Northwind】外套8折，输入DONG20；羊毛袜79元。回T退订")),
    ("en_with_a_french_word", "en", push("Winter, en route", "Merino Crew Socks for the trail, $18.50.")),
]
GOOD += [
    ("brand_link_glued_zh", "zh", push("峰顶羽绒服", "详情见northwind.example/cn/sdj，1599元。")),
]
GOOD += [
    ("limited_time_zh", "zh", push("外套限时8折", "输入DONG20，峰顶羽绒服享8折，12月31日截止。")),
]
BAD: list[tuple[str, str, dict[str, str], str]] = [
    ("remaining_zh", "zh", sms("【Northwind】仅剩最后2小时！外套8折，输入DONG20。回T退订"), "time_claim_unsupported"),
    (
        "attended_en",
        "en",
        push("Thanks for joining us", "Thanks for attending our Winter Workshop last month."),
        "history_not_in_facts",
    ),
    ("attended_zh", "zh", sms("【Northwind】小美，感谢您上周参加静安店的工作坊。回T退订"), "history_not_in_facts"),
    ("bare_domain", "en", push("Summit Down Jacket", "Order at northwind.example.deals-today.com"), "url_not_allowed"),
    ("bare_domain_zh", "zh", push("峰顶羽绒服", "下单请访问northwind-sale.com，1599元。"), "url_not_allowed"),
    ("inserted_word_en", "en", push("Alpine Carbon Trekking Poles", "Cork grips, $89.00."), "product_near_miss"),
    ("inserted_word_zh", "zh", push("阿尔卑斯碳纤维登山杖", "软木握把，一对459元。"), "product_near_miss"),
    ("traditional_chinese", "zh", push("會員專屬外套8折", "結算時輸入DONG20，12月31日前有效。"), "language_mismatch"),
    (
        "french_for_en",
        "en",
        sms(
            "Northwind : Anna, 20 % de réduction sur nos vestes avec WINTER20 jusqu'au 31 décembre. Répondez STOP pour vous désabonner"
        ),
        "language_mismatch",
    ),
    ("zh_unknown_letter_code", "zh", sms("【Northwind】外套8折，输入FREESHIP免运费。回T退订"), "code_not_in_facts"),
    ("money_tight_en", "en", push("Budget tight this month?", "Merino Crew Socks are $18.50."), "sensitive_inference"),
    (
        "spending_less_en",
        "en",
        push("We noticed", "You've been spending less lately. Here's a treat."),
        "sensitive_inference",
    ),
    ("injury_en", "en", push("Easier steps", "Recovering from a knee injury? Try our poles."), "sensitive_inference"),
    ("age_en", "en", push("Steady on the trail", "Balance gets harder with age."), "sensitive_inference"),
    ("hardship_zh", "zh", push("手头有点紧？", "美利奴羊毛袜79元。"), "sensitive_inference"),
    ("health_zh", "zh", push("膝盖不好？", "想必您膝盖有些不适，试试登山杖。"), "sensitive_inference"),
    ("pregnancy_zh", "zh", push("准妈妈专享", "孕期也能穿得暖。"), "sensitive_inference"),
    (
        "wrong_name_greeting",
        "en",
        sms("Northwind: Hi Emily, 20% off jackets with WINTER20. Reply STOP to opt out"),
        "wrong_customer_name",
    ),
    ("wrong_name_dear", "en", push("Dear Sophie,", "Warm layers for cold days."), "wrong_customer_name"),
    ("other_customer_head", "en", push("Bob, winter is here", "Warm layers for cold days."), "wrong_customer_name"),
    ("wrong_name_zh_greeting", "zh", sms("【Northwind】王丽，您好！外套8折。回T退订"), "wrong_customer_name"),
    ("wrong_name_zh_head", "zh", push("李明，羽绒服等您来", "峰顶羽绒服1599元。"), "wrong_customer_name"),
    (
        "bogo_en",
        "en",
        sms("Northwind: buy one pair of Merino Crew Socks, get one free. Reply STOP to opt out"),
        "benefit_not_in_facts",
    ),
    (
        "bogo_second_half",
        "en",
        push("Socks deal", "Second pair half price on Merino Crew Socks."),
        "benefit_not_in_facts",
    ),
    ("bogo_zh", "zh", push("羊毛袜买二送一", "美利奴羊毛袜买二送一，囤货正当时。"), "benefit_not_in_facts"),
    ("bogo_zh_second", "zh", push("第二件半价", "美利奴羊毛袜第二件半价。"), "benefit_not_in_facts"),
    (
        "gift_en",
        "en",
        push("A beanie on us", "Buy the Summit Down Jacket and get a Ridge Wool Beanie free."),
        "benefit_not_in_facts",
    ),
    ("gift_zh", "zh", push("下单即送", "买峰顶羽绒服再送羊毛帽一顶。"), "benefit_not_in_facts"),
    (
        "two_codes_together",
        "en",
        push("Double up", "Use WINTER20 and GOLD25 together on one order."),
        "stacking_not_allowed",
    ),
    (
        "zh_offer_scope_socks",
        "zh",
        sms("【Northwind】美利奴羊毛袜也参加冬季特惠，输入DONG20享8折。回T退订"),
        "offer_not_for_product",
    ),
    (
        "zh_offer_scope_shoes",
        "zh",
        push("Pegasus 40冬季8折", "输入DONG20，Pegasus 40跑鞋享8折。"),
        "offer_not_for_product",
    ),
    (
        "en_offer_scope",
        "en",
        push("20% off poles", "WINTER20 takes 20% off the Alpine Trekking Poles."),
        "offer_not_for_product",
    ),
    ("weekday_wrong_next_to_date", "en", push("Ends Thursday Dec 31", "WINTER20: 20% off socks."), "weekday_mismatch"),
    ("weekday_wrong_for_offer", "en", push("Sale ends Sunday", "WINTER20: 20% off jackets."), "weekday_mismatch"),
    ("weekday_wrong_zh", "zh", sms("【Northwind】外套8折，输入DONG20，本周五截止。回T退订"), "weekday_mismatch"),
    (
        "end_date_of_other_offer",
        "en",
        push("WINTER20 extended", "20% off socks with WINTER20, now extended to Dec 21."),
        "end_date_mismatch",
    ),
    ("price_swap_en", "en", push("Merino Crew Socks, $89.00", "Midweight merino."), "price_of_other_product"),
    ("price_swap_zh", "zh", push("美利奴羊毛袜459元", "中厚羊毛，足底加厚。"), "price_of_other_product"),
    (
        "history_before_claim_en",
        "en",
        sms("Northwind: Anna, the Summit Down Jacket you tried is still here. Reply STOP to opt out"),
        "history_not_in_facts",
    ),
    (
        "history_zh",
        "zh",
        push("羊毛袜再来一双", "您已经买过两次美利奴羊毛袜了，这次再来一双吧。"),
        "history_not_in_facts",
    ),
]


@pytest.mark.parametrize(("name", "lang", "content"), GOOD, ids=[g[0] for g in GOOD])
def test_good_copy_is_not_blocked(name: str, lang: str, content: dict[str, str]) -> None:
    verdict, reasons = _verdict(lang, content)
    assert verdict is not Verdict.BLOCK, (name, reasons)


@pytest.mark.parametrize(("name", "lang", "content", "reason"), BAD, ids=[b[0] for b in BAD])
def test_bad_copy_is_blocked_for_its_reason(name: str, lang: str, content: dict[str, str], reason: str) -> None:
    verdict, reasons = _verdict(lang, content)
    assert verdict is Verdict.BLOCK and reason in reasons, (name, reasons)
