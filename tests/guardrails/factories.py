"""Builders for bundles, contexts and variants used by the guardrail tests, evals and benchmark."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from copyloom.contracts.brand import BrandKitSpec
from copyloom.contracts.enums import Goal
from copyloom.contracts.facts import CustomerSnapshot, Fact, FactKind, FactsBundle, FactSource, FactValues
from copyloom.contracts.variants import Variant
from copyloom.domain.brief import Brief
from copyloom.guardrails.context import CheckContext

SEND_AT = datetime(2025, 12, 30, 15, 0, tzinfo=UTC)
CATALOGUE = (
    "Pegasus 40",
    "Pegasus 40 Trail",
    "Summit Down Jacket",
    "Trailblazer Rain Jacket",
    "Merino Crew Socks",
    "Alpine Trekking Poles",
    "飞马40跑鞋",
    "开拓者雨衣",
)


def brand(**over: Any) -> BrandKitSpec:
    base: dict[str, Any] = {
        "name": "Northwind",
        "banned_phrases": ["guaranteed", "miracle", "cheapest ever"],
        "competitor_names": ["Patagonia", "The North Face", "迪卡侬"],
        "emoji_policy": "sparingly",
        "max_exclamations": 1,
        "sender_identity": "Northwind Outfitters",
        "postal_address": "1 Harbour Way, Portland, OR 97201, USA",
    }
    base.update(over)
    return BrandKitSpec(**base)


def fact(fid: str, kind: FactKind, text: str, customer: str | None = "c1", **values: Any) -> Fact:
    return Fact(
        id=fid,
        kind=kind,
        text=text,
        values=FactValues(**values),
        source=FactSource(table=kind.value, row_id=fid, workspace_id="acme", customer_id=customer),
    )


def facts_en() -> list[Fact]:
    return [
        fact("profile:c1", FactKind.PROFILE, "First name Anna; loyalty member since 2021."),
        fact(
            "purchase:1001:1",
            FactKind.PURCHASE,
            "Bought Pegasus 40 for $120.00 on 2025-10-02.",
            product_name="Pegasus 40",
            price=Decimal("120.00"),
            currency="USD",
            date=datetime(2025, 10, 2, tzinfo=UTC),
            sku="PEG40",
        ),
        fact(
            "product:SOCK1",
            FactKind.PRODUCT,
            "Merino Crew Socks, $18.50.",
            None,
            product_name="Merino Crew Socks",
            price=Decimal("18.50"),
            currency="USD",
            sku="SOCK1",
            url="https://northwind.example/p/merino-crew-socks",
        ),
        fact(
            "offer:WINTER20",
            FactKind.OFFER,
            "20% off socks and layers with code WINTER20, until Dec 31.",
            None,
            discount_percent=Decimal("20"),
            code="WINTER20",
            valid_from=datetime(2025, 12, 20, tzinfo=UTC),
            valid_to=datetime(2025, 12, 31, 23, 59, tzinfo=UTC),
            url="https://northwind.example/winter",
        ),
    ]


def facts_zh() -> list[Fact]:
    return [
        fact("profile:c2", FactKind.PROFILE, "名字 小美；会员。", "c2"),
        fact(
            "purchase:2001:1",
            FactKind.PURCHASE,
            "2025-09-12 购买 飞马40跑鞋 ¥699。",
            "c2",
            product_name="飞马40跑鞋",
            price=Decimal("699"),
            currency="CNY",
            date=datetime(2025, 9, 12, tzinfo=UTC),
        ),
        fact(
            "offer:NEWYEAR15",
            FactKind.OFFER,
            "新年85折，优惠码 NY2026，12月31日截止。",
            None,
            discount_percent=Decimal("15"),
            code="NY2026",
            valid_from=datetime(2025, 12, 20, tzinfo=UTC),
            valid_to=datetime(2025, 12, 31, 15, 59, tzinfo=UTC),
        ),
    ]


def bundle(
    lang: str = "en",
    *,
    personalization: bool = True,
    brand_over: dict[str, Any] | None = None,
    facts: list[Fact] | None = None,
) -> FactsBundle:
    zh = lang == "zh"
    return FactsBundle(
        workspace_id="acme",
        customer=CustomerSnapshot(
            external_id="c2" if zh else "c1",
            first_name="小美" if zh else "Anna",
            locale="zh-CN" if zh else "en",
            time_zone="Asia/Shanghai" if zh else "America/New_York",
            country="CN" if zh else "US",
        ),
        goal="offer_announcement",
        channel="sms",
        locale="zh-CN" if zh else "en",
        personalization_allowed=personalization,
        brand=brand(**(brand_over or {})),
        facts=facts if facts is not None else (facts_zh() if zh else facts_en()),
    )


def ctx(b: FactsBundle | None = None, channel: str = "sms", **over: Any) -> CheckContext:
    base: dict[str, Any] = {
        "bundle": b or bundle(),
        "channel": channel,
        "send_at": SEND_AT,
        "brief": Brief(goal=Goal.OFFER_ANNOUNCEMENT),
        "catalogue": CATALOGUE,
        "other_customers": ("Bob Smith", "bob@example.com", "+1 415 555 0134", "王小明"),
    }
    base.update(over)
    return CheckContext(**base)


def variant(content: dict[str, Any], fact_ids: list[str] | None = None, angle: str = "test") -> Variant:
    return Variant.model_validate({"angle": angle, "fact_ids": fact_ids or [], "content": content})


def sms(text: str, fact_ids: list[str] | None = None) -> Variant:
    return variant({"channel": "sms", "text": text}, fact_ids)


def email(
    subject: str,
    body: str,
    preheader: str = "Warm layers for the coldest week of the year",
    cta: str = "Shop now",
    fact_ids: list[str] | None = None,
) -> Variant:
    return variant(
        {"channel": "email", "subject": subject, "preheader": preheader, "body": body, "cta_text": cta}, fact_ids
    )
