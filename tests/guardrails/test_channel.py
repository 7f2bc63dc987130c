"""Channel rules: SMS segments/brand/opt-out, push bytes, email lengths and footer, WhatsApp, slots."""

from __future__ import annotations

import pytest

from copyloom.guardrails.channel import UNSUBSCRIBE_PLACEHOLDER, check_channel, render_email_footer
from copyloom.guardrails.types import Verdict
from tests.guardrails.factories import brand, bundle, ctx, email, sms, variant

GOOD_SMS = "Northwind: 20% off socks with WINTER20. Reply STOP to opt out"


@pytest.mark.parametrize(
    ("text", "lang", "verdict", "code"),
    [
        (GOOD_SMS, "en", Verdict.PASS, "ok"),
        ("【Northwind】新年85折，优惠码NY2026。回T退订", "zh", Verdict.PASS, "ok"),
        ("20% off socks with WINTER20. Reply STOP to opt out", "en", Verdict.BLOCK, "sms_missing_brand"),
        ("Northwind: 20% off socks with WINTER20.", "en", Verdict.BLOCK, "sms_missing_opt_out"),
        ("【Northwind】新年85折，优惠码NY2026。", "zh", Verdict.BLOCK, "sms_missing_opt_out"),
        ("Northwind: " + "socks " * 60 + "Reply STOP", "en", Verdict.BLOCK, "sms_too_long"),
        ("【Northwind】" + "新年快乐" * 40 + "回T退订", "zh", Verdict.BLOCK, "sms_too_long"),
        ("Northwind: it’s sock week – 20% off. Reply STOP", "en", Verdict.FLAG, "sms_smart_punctuation"),
        ("Northwind: it’s " + "x" * 150 + " Reply STOP", "en", Verdict.BLOCK, "sms_smart_punctuation"),
    ],
)
def test_sms_rules(text: str, lang: str, verdict: Verdict, code: str) -> None:
    r = check_channel(sms(text), ctx(bundle(lang)))
    assert (r.verdict, r.reason_code) == (verdict, code), r.message
    if verdict is Verdict.BLOCK:
        assert r.repairable


def test_sms_segment_limit_comes_from_policy() -> None:
    text = "Northwind: " + "socks " * 40 + "Reply STOP"  # 2 GSM segments
    assert check_channel(sms(text), ctx()).verdict is Verdict.PASS
    strict = bundle(brand_over={"policies": {"sms_max_segments": 1}})
    assert check_channel(sms(text), ctx(strict)).reason_code == "sms_too_long"


def test_push_limits_and_payload_bytes() -> None:
    ok = variant({"channel": "push", "title": "Socks are back", "body": "20% off with WINTER20."})
    assert check_channel(ok, ctx(channel="push")).verdict is Verdict.PASS
    long_title = variant({"channel": "push", "title": "T" * 60, "body": "b"})
    assert check_channel(long_title, ctx(channel="push")).reason_code == "too_long"
    huge = variant({"channel": "push", "title": "t", "body": "好" * 1400})
    r = check_channel(huge, ctx(channel="push", limits=ctx().limits.model_copy(update={"push_body_max": 5000})))
    assert r.reason_code == "push_payload_too_large"


def test_screen_slots_are_measured_in_display_columns() -> None:
    # A push title may take 50 columns: 50 Latin letters fit, 26 Chinese characters (52 columns) do not.
    latin = variant({"channel": "push", "title": "T" * 50, "body": "b"})
    assert check_channel(latin, ctx(channel="push")).verdict is Verdict.PASS
    wide = variant({"channel": "push", "title": "露" * 26, "body": "b"})
    r = check_channel(wide, ctx(channel="push"))
    assert (r.reason_code, r.evidence[0].start, r.evidence[0].text) == ("too_long", 25, "露")
    assert "52 columns" in r.message
    mixed = variant({"channel": "in_app", "title": "春季露营 Spring Camp 新品上市", "body": "b", "cta_text": "看看"})
    assert check_channel(mixed, ctx(channel="in_app")).verdict is Verdict.PASS  # 36 columns of 40


def test_whatsapp_limits_stay_in_characters() -> None:
    # WhatsApp's limits are the platform's, counted in characters: 40 Chinese characters fit a 60-character header.
    tpl = variant(
        {
            "channel": "whatsapp",
            "template_name": "spring_zh_cn",
            "template_variables": {"header": "露" * 40, "body": "春季新品"},
        }
    )
    r = check_channel(tpl, ctx(channel="whatsapp", whatsapp_template_only=True))
    assert "too_long" not in {r.reason_code} | {e.reason_code for e in r.evidence}


@pytest.mark.parametrize(
    ("subject", "body", "verdict", "code"),
    [
        ("Warm socks for winter walks", "Socks are here. Shop now.", Verdict.PASS, "ok"),
        ("Your winter sock drawer called and wants a refill", "Socks.", Verdict.FLAG, "subject_truncated_on_mobile"),
        ("S" * 51, "Socks.", Verdict.BLOCK, "too_long"),
        ("Warm socks", "Socks. Click here to unsubscribe.", Verdict.BLOCK, "body_unsubscribe_text"),
    ],
)
def test_email_rules(subject: str, body: str, verdict: Verdict, code: str) -> None:
    r = check_channel(email(subject, body), ctx(channel="email"))
    assert (r.verdict, r.reason_code) == (verdict, code), r.message


def test_email_needs_sender_identity_and_postal_address_in_brand_kit() -> None:
    b = bundle(brand_over={"postal_address": None})
    r = check_channel(email("Warm socks", "Socks."), ctx(b, channel="email"))
    assert r.reason_code == "missing_sender_identity" and not r.repairable


def test_footer_has_identity_address_and_unsubscribe_slot() -> None:
    footer = render_email_footer(brand())
    assert "Northwind Outfitters" in footer and "Portland" in footer and UNSUBSCRIBE_PLACEHOLDER in footer


def test_whatsapp_template_rules() -> None:
    free = variant({"channel": "whatsapp", "text": "Hi Anna, socks are back."})
    assert check_channel(free, ctx(channel="whatsapp")).verdict is Verdict.PASS
    assert check_channel(free, ctx(channel="whatsapp", whatsapp_template_only=True)).reason_code == (
        "whatsapp_template_required"
    )
    tpl = variant(
        {
            "channel": "whatsapp",
            "template_name": "winter_offer",
            "template_variables": {"header": "H" * 61, "body": "ok"},
        }
    )
    assert check_channel(tpl, ctx(channel="whatsapp", whatsapp_template_only=True)).reason_code == "too_long"


def test_slots_and_wrong_channel() -> None:
    web = variant({"channel": "web", "headline": "Socks", "subhead": "Warm", "cta_text": "C" * 21})
    assert check_channel(web, ctx(channel="web")).reason_code == "too_long"
    assert check_channel(sms(GOOD_SMS), ctx(channel="email")).reason_code == "wrong_channel"


def test_chinese_preheader_minimum_counts_display_width() -> None:
    # 15 CJK characters fill 30 columns of the inbox line, as much as 30 Latin characters.
    wide = check_channel(email("春季露营", "正文", preheader="规划下一次出行，趁优惠期入手。"), ctx(channel="email"))
    assert "preheader_too_short" not in {e.reason_code for e in wide.evidence} | {wide.reason_code}
    narrow = check_channel(email("春季露营", "正文", preheader="新优惠来了"), ctx(channel="email"))
    assert "preheader_too_short" in {e.reason_code for e in narrow.evidence} | {narrow.reason_code}
