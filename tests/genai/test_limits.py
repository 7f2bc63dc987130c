"""Screen-slot limits are display columns for the generators too: checked in columns, stated per locale."""

from __future__ import annotations

from copyloom.contracts.brand import BrandKitSpec
from copyloom.contracts.enums import Channel
from copyloom.contracts.variants import PushContent, WhatsAppContent
from copyloom.genai.limits import content_problems
from copyloom.genai.messages import _limit_vars, channel_rules

BRAND = BrandKitSpec(name="Northwind")


def test_a_chinese_title_is_measured_in_columns() -> None:
    over = PushContent(title="露营" * 12 + "新品", body="春季新品上市")  # 26 characters, 52 columns
    assert content_problems(over, brand_name="Northwind", locale="zh-CN") == [
        "push title is 52 columns wide (a Chinese character takes two); at most 40 allowed: shorten it"
    ]
    assert content_problems(PushContent(title="T" * 40, body="b"), brand_name="Northwind", locale="en") == []
    fits = PushContent(title="露营" * 10, body="春季新品上市")  # 20 characters, 40 columns
    assert content_problems(fits, brand_name="Northwind", locale="zh-CN") == []


def test_whatsapp_text_is_still_counted_in_characters() -> None:
    text = "Northwind：" + "春季新品" * 200 + "回T退订"  # 815 characters, over 1,600 columns
    assert content_problems(WhatsAppContent(text=text), brand_name="Northwind", locale="zh-CN") == []


def test_prompts_state_slot_limits_in_characters_of_the_language() -> None:
    assert _limit_vars(Channel.PUSH, BRAND, "en", "cross_sell")["title"] == 40
    assert _limit_vars(Channel.PUSH, BRAND, "zh-CN", "cross_sell")["title"] == 20
    assert _limit_vars(Channel.EMAIL, BRAND, "zh-CN", "cross_sell")["body"] == 2000  # not a screen slot
    assert channel_rules(Channel.IN_APP, BRAND, "zh-CN", False) == [
        "title at most 20 characters",
        "body at most 70 characters",
        "cta_text at most 10 characters",
    ]
