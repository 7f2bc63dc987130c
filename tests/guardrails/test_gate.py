"""The gate before generation: a table of rules, then properties that must hold for every snapshot."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copyloom.contracts.brand import BrandPolicies, ChannelPolicy
from copyloom.guardrails.gate import EventSummary, GateInput, GateReason, evaluate_gate

NOW = datetime(2025, 12, 30, 17, 0, tzinfo=UTC)  # 12:00 in New York
CHANNELS = ("email", "sms", "push", "in_app", "whatsapp", "web")


def granted(*channels: str, purpose: str = "marketing") -> dict[tuple[str, str], str]:
    return {(purpose, ch): "granted" for ch in channels}


BASE = GateInput(
    customer_id="c1",
    consents={**granted(*CHANNELS), **granted(*CHANNELS, purpose="personalization")},
    time_zone="America/New_York",
    country="US",
    last_inbound_whatsapp=NOW - timedelta(hours=2),
)


def gate(snapshot: GateInput, channel: str = "sms", *, realtime: bool = True, **kw: object):  # type: ignore[no-untyped-def]
    return evaluate_gate(
        snapshot,
        channel=channel,
        purpose=kw.pop("purpose", "marketing"),
        now=kw.pop("now", NOW),
        send_at=kw.pop("send_at", None),
        realtime=realtime,
    )  # type: ignore[arg-type]


CASES = [
    ("all_clear", BASE, "sms", True, GateReason.OK),
    ("no_consent_record", replace(BASE, consents={}), "sms", False, GateReason.NO_CONSENT),
    (
        "withdrawn",
        replace(BASE, consents={**BASE.consents, ("marketing", "sms"): "withdrawn"}),
        "sms",
        False,
        GateReason.NO_CONSENT,
    ),
    ("other_channel_consent_only", replace(BASE, consents=granted("email")), "sms", False, GateReason.NO_CONSENT),
    (
        "suppressed",
        replace(BASE, suppressed=True, suppressed_reason="Art. 21 objection"),
        "email",
        False,
        GateReason.GLOBALLY_SUPPRESSED,
    ),
    ("minor_by_birth_date", replace(BASE, birth_date=date(2010, 1, 1)), "email", False, GateReason.MINOR),
    ("minor_by_attribute", replace(BASE, is_minor=True), "email", False, GateReason.MINOR),
    ("adult_turned_18_today", replace(BASE, birth_date=date(2007, 12, 30)), "email", True, GateReason.OK),
    (
        "open_complaint",
        replace(BASE, events=(EventSummary("Complaint Opened", NOW - timedelta(days=3)),)),
        "email",
        False,
        GateReason.SENSITIVE_CONTEXT,
    ),
    (
        "refund_requested",
        replace(BASE, events=(EventSummary("Refund Requested", NOW - timedelta(days=1)),)),
        "push",
        False,
        GateReason.SENSITIVE_CONTEXT,
    ),
    (
        "complaint_resolved",
        replace(
            BASE,
            events=(
                EventSummary("Complaint Opened", NOW - timedelta(days=5)),
                EventSummary("Complaint Resolved", NOW - timedelta(days=2)),
            ),
        ),
        "email",
        True,
        GateReason.OK,
    ),
    (
        "old_complaint",
        replace(BASE, events=(EventSummary("Complaint Opened", NOW - timedelta(days=90)),)),
        "email",
        True,
        GateReason.OK,
    ),
    ("min_gap", replace(BASE, sent=(("sms", NOW - timedelta(hours=5)),)), "sms", False, GateReason.FATIGUE_MIN_GAP),
    ("gap_other_channel_ok", replace(BASE, sent=(("email", NOW - timedelta(hours=5)),)), "sms", True, GateReason.OK),
    (
        "weekly_cap",
        replace(BASE, sent=(("sms", NOW - timedelta(days=2)), ("sms", NOW - timedelta(days=4)))),
        "sms",
        False,
        GateReason.FATIGUE_WEEKLY_CAP,
    ),
    (
        "cap_window_is_7_days",
        replace(BASE, sent=(("sms", NOW - timedelta(days=2)), ("sms", NOW - timedelta(days=8)))),
        "sms",
        True,
        GateReason.OK,
    ),
    (
        "whatsapp_outside_window",
        replace(BASE, last_inbound_whatsapp=NOW - timedelta(hours=30)),
        "whatsapp",
        True,
        GateReason.WHATSAPP_TEMPLATE_ONLY,
    ),
    ("bad_time_zone", replace(BASE, time_zone="Mars/Olympus"), "sms", False, GateReason.UNKNOWN_TIME_ZONE),
]


@pytest.mark.parametrize(("name", "snapshot", "channel", "allowed", "reason"), CASES, ids=[c[0] for c in CASES])
def test_gate_rules(name: str, snapshot: GateInput, channel: str, allowed: bool, reason: GateReason) -> None:
    decision = gate(snapshot, channel)
    assert (decision.allowed, decision.reason_code) == (allowed, reason), decision.message


def test_personalization_without_consent_is_not_a_suppression() -> None:
    decision = gate(replace(BASE, consents=granted(*CHANNELS)))
    assert decision.allowed and not decision.personalization_allowed


def test_transactional_needs_no_marketing_consent_and_ignores_suppression() -> None:
    decision = gate(replace(BASE, consents={}, suppressed=True), purpose="transactional")
    assert decision.allowed


def test_quiet_hours_answer_send_after_next_local_morning() -> None:
    late = datetime(2025, 12, 31, 3, 30, tzinfo=UTC)  # 22:30 in New York
    decision = gate(BASE, now=late)
    assert decision.reason_code is GateReason.QUIET_HOURS
    assert decision.send_after == datetime(2025, 12, 31, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert not decision.sendable_at(late) and decision.sendable_at(decision.send_after)


def test_stricter_regional_window_from_policies() -> None:
    at_2030 = datetime(2025, 12, 31, 1, 30, tzinfo=UTC)  # 20:30 in New York / Miami
    assert gate(BASE, now=at_2030).reason_code is GateReason.OK
    florida = replace(BASE, region="US-FL")
    assert gate(florida, now=at_2030).reason_code is GateReason.QUIET_HOURS


def test_quiet_hours_do_not_apply_to_batch_generation() -> None:
    assert gate(BASE, now=datetime(2025, 12, 31, 3, 30, tzinfo=UTC), realtime=False).reason_code is GateReason.OK


def test_fatigue_numbers_come_from_brand_policies() -> None:
    lenient = BrandPolicies(channels={"sms": ChannelPolicy(min_gap_hours=1, max_per_week=10)})
    snap = replace(BASE, sent=(("sms", NOW - timedelta(hours=5)),), policies=lenient)
    assert gate(snap).allowed


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        gate(BASE, now=datetime(2025, 1, 1))


# --- properties -----------------------------------------------------------------------------------------------

_status = st.sampled_from(["granted", "withdrawn", None])
_zones = st.sampled_from(
    [
        "America/New_York",
        "America/Los_Angeles",
        "Asia/Shanghai",
        "Europe/London",
        "UTC",
        "Australia/Sydney",
        "Not/AZone",
        "",
    ]
)


@st.composite
def snapshots(draw: st.DrawFn) -> GateInput:
    consents = {}
    for purpose in ("marketing", "personalization"):
        for ch in CHANNELS:
            s = draw(_status)
            if s:
                consents[(purpose, ch)] = s
    sent = tuple(
        (draw(st.sampled_from(CHANNELS)), NOW - timedelta(hours=draw(st.integers(0, 400))))
        for _ in range(draw(st.integers(0, 5)))
    )
    return GateInput(
        customer_id="p",
        consents=consents,
        suppressed=draw(st.booleans()),
        birth_date=draw(st.one_of(st.none(), st.dates(date(1940, 1, 1), date(2020, 1, 1)))),
        time_zone=draw(_zones),
        region=draw(st.sampled_from([None, "US-FL", "US-CT"])),
        sent=sent,
        last_inbound_whatsapp=draw(st.one_of(st.none(), st.just(NOW - timedelta(hours=3)))),
    )


@settings(max_examples=300, deadline=None)
@given(snapshots(), st.sampled_from(CHANNELS), st.integers(0, 24 * 14), st.booleans())
def test_never_sendable_without_consent_or_when_suppressed_or_in_quiet_hours(
    snap: GateInput, channel: str, minutes_ahead: int, realtime: bool
) -> None:
    now = NOW + timedelta(minutes=37 * minutes_ahead)
    decision = gate(snap, channel, now=now, realtime=realtime)
    if snap.consents.get(("marketing", channel)) != "granted" or snap.suppressed:
        assert not decision.allowed
    if decision.allowed and realtime:
        zone = ZoneInfo(snap.time_zone or "UTC")
        start, end = snap.policies.quiet_hours.regional.get(snap.region or "", (8, 21))
        moment = decision.send_after or now
        assert decision.sendable_at(moment)
        assert start <= moment.astimezone(zone).hour < end
        if decision.send_after is not None:
            assert not decision.sendable_at(now)
    if decision.personalization_allowed:
        assert snap.consents.get(("personalization", channel)) == "granted"
