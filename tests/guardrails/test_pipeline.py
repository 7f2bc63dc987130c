"""The pipeline: every check runs, the worst verdict wins, repairable blocks produce retry feedback; and the
property that no draft carrying another customer's data or facts passes."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from copyloom.contracts.variants import Variant
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.pipeline import CHECKS, repair_feedback, run_checks
from copyloom.guardrails.types import CheckResult, Verdict
from tests.guardrails.factories import bundle, ctx, sms

GOOD = sms(
    "Northwind: Anna, 20% off Merino Crew Socks ($18.50) with code WINTER20 until Dec 31. Reply STOP to opt out",
    ["profile:c1", "offer:WINTER20", "product:SOCK1"],
)


def test_good_draft_passes_every_check() -> None:
    report = run_checks(GOOD, ctx())
    assert report.verdict is Verdict.PASS, [r.message for r in report.results]
    assert {r.check for r in report.results} == set(CHECKS)
    assert report.latency_ms > 0


def test_worst_verdict_wins_and_ungrounded_blocks_get_no_retry() -> None:
    report = run_checks(sms("Northwind: 50% off socks. Reply STOP"), ctx())
    assert report.verdict is Verdict.BLOCK
    assert [r.check for r in report.blocking] == ["grounding"]
    assert repair_feedback(report) == []


def test_repairable_blocks_produce_feedback_for_one_retry() -> None:
    report = run_checks(sms("Northwind: Anna, 20% off socks with WINTER20."), ctx())
    assert [r.reason_code for r in report.blocking] == ["sms_missing_opt_out"]
    feedback = repair_feedback(report)
    assert feedback and "Reply STOP" in feedback[0]


def test_a_crashing_check_fails_closed() -> None:
    def broken(variant: Variant, c: CheckContext) -> CheckResult:
        raise RuntimeError("boom")

    report = run_checks(GOOD, ctx(), {"broken": broken})
    assert report.verdict is Verdict.BLOCK and report.results[0].reason_code == "check_error"


_given = st.sampled_from(["Bob", "Carla", "Dmitri", "Erin", "Farah", "Gustavo"])
_family = st.sampled_from(["Smith", "Okafor", "Lindqvist", "Tanaka", "Moreau"])


@st.composite
def leaked(draw: st.DrawFn) -> tuple[str, tuple[str, ...]]:
    """Another customer's identifiers, and one piece of their data to plant in the draft."""
    name = f"{draw(_given)} {draw(_family)}"
    user = draw(st.from_regex(r"[a-z]{3,8}", fullmatch=True))
    mail = f"{user}@{draw(st.sampled_from(['gmail.com', 'example.org', 'qq.com']))}"
    phone = f"+1 415 555 {draw(st.integers(100, 9999)):04d}"
    cents = draw(st.integers(100, 99999))
    price = Decimal(cents) / 100
    own_prices = {Decimal("18.50"), Decimal("120.00"), Decimal("14.80"), Decimal("96.00")}
    if price in own_prices:
        price += Decimal("0.01")
    order = draw(st.integers(100000, 999999))
    planted = draw(
        st.sampled_from(
            [
                name,
                mail,
                phone,
                f"{name.split()[0]} paid ${price}",
                f"code {user.upper()}{order % 97}",
                "Summit Down Jacket",
                f"order #{order} for ${price}",
            ]
        )
    )
    return planted, (name, mail, phone)


@settings(max_examples=150, deadline=None)
@given(leaked(), st.integers(0, 3))
def test_no_draft_with_another_customers_data_passes(leak: tuple[str, tuple[str, ...]], where: int) -> None:
    planted, identifiers = leak
    words = GOOD.content.text_fields()["text"].split(" ")
    words.insert(1 + where * 3, planted)
    draft = sms(" ".join(words), GOOD.fact_ids)
    report = run_checks(draft, ctx(bundle(), other_customers=identifiers))
    assert report.verdict is Verdict.BLOCK, planted
