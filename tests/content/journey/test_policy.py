"""The pure decision policy: one table of snapshots and the answer each calls for."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from copyloom.content.journey.policy import DecisionSnapshot, Generate, Send, Suppress, plan_decision
from copyloom.errors import InvalidInput
from copyloom.guardrails.gate import GateDecision, GateReason


@dataclass(frozen=True)
class D:
    id: str
    channel: str
    status: str = "approved"
    is_control: bool = False
    variant_index: int = 0
    angle: str | None = None


OK = GateDecision(True, True, GateReason.OK, "Allowed.")
IMPERSONAL = GateDecision(True, False, GateReason.OK, "Allowed.")
TIRED = GateDecision(False, True, GateReason.FATIGUE_MIN_GAP, "Last push message …")
CHANNELS = frozenset({"push", "email"})


def plan(gate: GateDecision, drafts: list[D], *, generates: bool = False, channel: str = "push") -> object:
    return plan_decision(DecisionSnapshot(gate, CHANNELS, generates, drafts), channel, lambda ds: ds[-1])


def test_gate_refusal_is_the_answer_whatever_exists() -> None:
    out = plan(TIRED, [D("v", "push"), D("c", "push", is_control=True)])
    assert out == Suppress("fatigue_min_gap", TIRED.message, None)


def test_approved_variant_beats_control_and_is_picked_by_the_sampler() -> None:
    out = plan(OK, [D("v0", "push"), D("v1", "push", variant_index=1), D("c", "push", is_control=True)])
    assert isinstance(out, Send) and out.source == "approved" and out.draft.id == "v1"


def test_without_personalization_consent_only_the_control_goes() -> None:
    out = plan(IMPERSONAL, [D("v", "push"), D("c", "push", is_control=True)])
    assert isinstance(out, Send) and out.source == "control" and out.draft.id == "c"


def test_auto_approving_campaign_generates_with_the_control_as_fallback() -> None:
    out = plan(OK, [D("c", "push", is_control=True)], generates=True)
    assert isinstance(out, Generate) and isinstance(out.fallback, Send) and out.fallback.draft.id == "c"
    assert isinstance(plan(IMPERSONAL, [], generates=True), Suppress)  # never generate from personal data


def test_nothing_to_send_lists_what_exists() -> None:
    drafts = [
        D("p", "push", status="pending_review"),
        D("e", "email"),
        D("pc", "push", status="pending_review", is_control=True),
    ]
    out = plan(OK, drafts)
    assert isinstance(out, Suppress) and out.reason_code == "no_approved_content"
    assert "on push: 1 pending review" in out.message
    assert "push control: 1 pending review" in out.message
    assert "approved on other channels: email (variant)" in out.message
    out = plan(IMPERSONAL, [D("v", "push")])
    assert isinstance(out, Suppress) and "need personalization consent" in out.message


def test_a_channel_outside_the_campaign_is_invalid() -> None:
    with pytest.raises(InvalidInput) as err:
        plan(OK, [], channel="sms")
    assert err.value.code == "channel_not_in_campaign" and err.value.field == "channel"
