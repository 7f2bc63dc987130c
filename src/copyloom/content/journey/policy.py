"""The decision policy, pure: what one customer's snapshot and one request call for. Single and batch decisions
both ask it; neither decides anything itself.

Order of preference: the gate (suppress with its reason) → the customer's approved draft (Thompson sampling over
variants) → a draft generated now, if the campaign auto-approves passing drafts (the caller generates within the
deadline, then falls back) → the campaign's approved control → suppress, saying what exists instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

from copyloom.contracts.enums import DraftStatus
from copyloom.errors import InvalidInput
from copyloom.guardrails.gate import GateDecision

NO_CONTENT = "no_approved_content"


class DraftLike(Protocol):
    """What the policy reads of a draft: an ORM ``Draft`` or a row of its columns."""

    @property
    def id(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def is_control(self) -> bool: ...
    @property
    def variant_index(self) -> int: ...
    @property
    def angle(self) -> str | None: ...


D = TypeVar("D", bound=DraftLike)


@dataclass(frozen=True)
class DecisionSnapshot:
    """What a decision knows: the gate's answer, the campaign's channels and whether it auto-approves generated
    drafts, and the campaign's drafts that concern this customer (their own, any status and channel, and the
    controls)."""

    gate: GateDecision
    campaign_channels: frozenset[str]
    generates: bool
    drafts: Sequence[Any] = field(default_factory=tuple)


@dataclass(frozen=True)
class Send:
    draft: Any
    source: Literal["approved", "generated", "control"]
    send_after: datetime | None = None


@dataclass(frozen=True)
class Suppress:
    reason_code: str
    message: str
    send_after: datetime | None = None


@dataclass(frozen=True)
class Generate:
    """Generate within the deadline; if that yields no approved draft, ``fallback`` is the answer."""

    fallback: Send | Suppress


Plan = Send | Suppress | Generate


def check_channel(channel: str, campaign_channels: frozenset[str]) -> None:
    """A decision for a channel the campaign does not have is a bad request, not a draft to write."""
    if channel not in campaign_channels:
        raise InvalidInput(
            f"the campaign has no {channel} channel (it has: {', '.join(sorted(campaign_channels))})",
            code="channel_not_in_campaign",
            field="channel",
        )


def plan_decision(snapshot: DecisionSnapshot, channel: str, pick: Callable[[list[D]], D]) -> Send | Suppress | Generate:
    """The answer for ``channel``; ``pick`` chooses among approved variants (Thompson sampling)."""
    check_channel(channel, snapshot.campaign_channels)
    gate = snapshot.gate
    if not gate.allowed:
        return Suppress(str(gate.reason_code), gate.message, gate.send_after)
    mine = [
        d for d in snapshot.drafts if d.channel == channel and not d.is_control and d.status == DraftStatus.APPROVED
    ]
    if gate.personalization_allowed and mine:
        return Send(pick(mine), "approved", gate.send_after)
    controls = [
        d for d in snapshot.drafts if d.channel == channel and d.is_control and d.status == DraftStatus.APPROVED
    ]
    fallback: Send | Suppress = (
        Send(controls[0], "control", gate.send_after)
        if controls
        else Suppress(NO_CONTENT, no_content_message(snapshot.drafts, channel, gate.personalization_allowed))
    )
    if gate.personalization_allowed and snapshot.generates:
        return Generate(fallback)
    return fallback


def no_content_message(drafts: Sequence[DraftLike], channel: str, personal: bool) -> str:
    """Why nothing can go on ``channel``, listing what the campaign does have for this customer."""
    here = Counter(d.status for d in drafts if d.channel == channel and not d.is_control)
    elsewhere = sorted(
        {
            f"{d.channel} ({'control' if d.is_control else 'variant'})"
            for d in drafts
            if d.channel != channel and d.status == DraftStatus.APPROVED
        }
    )
    parts = [f"no approved draft or control for this customer on {channel}"]
    if here.get(DraftStatus.APPROVED) and not personal:
        parts.append(f"{here['approved']} approved variant(s) on {channel} need personalization consent")
    waiting = {s: n for s, n in sorted(here.items()) if s != DraftStatus.APPROVED}
    if waiting:
        parts.append(f"on {channel}: " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in waiting.items()))
    control = Counter(
        d.status for d in drafts if d.channel == channel and d.is_control and d.status != DraftStatus.APPROVED
    )
    if control:
        parts.append(
            f"{channel} control: " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(control.items()))
        )
    if elsewhere:
        parts.append("approved on other channels: " + ", ".join(elsewhere))
    return "; ".join(parts)
