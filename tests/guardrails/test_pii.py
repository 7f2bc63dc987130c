"""PII and leakage: contact details, card and account numbers, other customers' data, sensitive inference."""

from __future__ import annotations

import pytest

from copyloom.guardrails.pii import check_pii, iban_ok, luhn_ok
from copyloom.guardrails.types import Verdict
from tests.guardrails.factories import bundle, ctx, sms

PASS = [
    "Northwind: Anna, 20% off socks with WINTER20 until 12/31. Reply STOP",
    "Northwind: questions? Write to help@northwind.example",
    "Northwind: order 1001 shipped; socks SKU SOCK1 restocked.",
    "Northwind: new hearing aids case for your pack? Not quite - but socks are in.",
    "Northwind: 2025-12-31 is the last day. Call 911 in emergencies only.",
    "【Northwind】小美，新年85折。回T退订",
]
BLOCK = [
    ("Northwind: reply to anna.lee@gmail.com", "pii_email"),
    ("Northwind: call Anna on (415) 555-2671", "pii_phone"),
    ("Northwind: your card 4111 1111 1111 1111 is saved", "pii_card"),
    ("Northwind: refund to GB82 WEST 1234 5698 7654 32", "pii_iban"),
    ("Northwind: account number 12345678 credited", "pii_account"),
    ("Northwind: Bob Smith loved these socks too", "other_customer_data"),
    ("Northwind: like bob@example.com, grab socks", "other_customer_data"),
    ("【Northwind】王小明也买了这双袜子。", "other_customer_data"),
    ("Northwind: socks for your pregnancy comfort", "sensitive_inference"),
    ("Northwind: gentle socks for diabetic feet", "sensitive_inference"),
    ("Northwind: warm socks for church on Sunday", "sensitive_inference"),
    ("【Northwind】孕期也要保暖。", "sensitive_inference"),
    ("Northwind: our HIV charity socks", "sensitive_inference"),
    ("【Northwind】请致电13812345678领取。", "pii_phone"),
]


@pytest.mark.parametrize("text", PASS)
def test_clean_copy_passes(text: str) -> None:
    b = bundle("zh") if "【" in text else bundle()
    r = check_pii(sms(text), ctx(b, brand_domains=("northwind.example",)))
    assert r.verdict is Verdict.PASS, r.message


@pytest.mark.parametrize(("text", "code"), BLOCK)
def test_personal_data_blocks(text: str, code: str) -> None:
    b = bundle("zh") if "【" in text else bundle()
    r = check_pii(sms(text), ctx(b))
    assert r.verdict is Verdict.BLOCK
    assert code in {e.reason_code for e in r.evidence}, r.message


def test_recipients_own_first_name_is_not_leakage() -> None:
    r = check_pii(sms("Northwind: Anna, socks!"), ctx(other_customers=("Anna",)))
    assert r.verdict is Verdict.PASS


@pytest.mark.parametrize(
    ("text", "ident"),
    [
        ("Northwind: BOB SMITH loved these socks too", "Bob Smith"),  # an ASCII text, case aside
        ("Northwind: Bob Smith loved these socks too", "bob smith"),
        ("Northwind: Mar\u212a Lee loved these socks", "Mark Lee"),  # the Kelvin sign: matched by the pattern
        ("Northwind: like BOB@Example.com, grab socks", "bob@example.com"),
    ],
)
def test_other_customers_are_found_whatever_the_case(text: str, ident: str) -> None:
    r = check_pii(sms(text), ctx(other_customers=(ident,)))
    assert "other_customer_data" in {e.reason_code for e in r.evidence}, r.message


def test_other_customers_absent_from_the_text_are_not_flagged() -> None:
    r = check_pii(sms("Northwind: Bob, socks for you"), ctx(other_customers=("Bob Smith", "Bobby", "ob")))
    assert "other_customer_data" not in {e.reason_code for e in r.evidence}, r.message


@pytest.mark.parametrize(
    ("digits", "ok"), [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)]
)
def test_luhn(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


def test_iban_mod97() -> None:
    assert iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not iban_ok("GB82 WEST 1234 5698 7654 33")
