"""The gate before generation: may this customer get a message on this channel, for this purpose, now?

Pure: ``evaluate_gate`` reads a ``GateInput`` snapshot (built from SQL by ``load_gate_input``) and the clock it
is given. When it says no, no model is called. Every threshold comes from the brand's ``BrandPolicies``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from copyloom.contracts.brand import BrandPolicies
from copyloom.contracts.enums import Channel, ConsentStatus, Purpose
from copyloom.domain.consents import personalization_in_force, status_in_force

# Meta's customer-service window; a platform rule rather than a brand preference.
WHATSAPP_WINDOW = timedelta(hours=24)


class GateReason(StrEnum):
    OK = "ok"
    NO_CONSENT = "no_consent"
    GLOBALLY_SUPPRESSED = "globally_suppressed"
    MINOR = "minor"
    SENSITIVE_CONTEXT = "sensitive_context"
    FATIGUE_MIN_GAP = "fatigue_min_gap"
    FATIGUE_WEEKLY_CAP = "fatigue_weekly_cap"
    QUIET_HOURS = "quiet_hours"
    UNKNOWN_TIME_ZONE = "unknown_time_zone"
    WHATSAPP_TEMPLATE_ONLY = "whatsapp_template_only"


@dataclass(frozen=True, slots=True)
class EventSummary:
    """A recent event that matters to the gate (complaints, refunds, inbound messages)."""

    name: str
    occurred_at: datetime
    status: str | None = None


@dataclass(frozen=True, slots=True)
class GateInput:
    """What the gate knows about one customer. ``consents`` maps (purpose, channel) to the status in force
    (``domain.consents.fold_consents``)."""

    customer_id: str
    consents: dict[tuple[str, str], str] = field(default_factory=dict)
    suppressed: bool = False
    suppressed_reason: str | None = None
    birth_date: date | None = None
    is_minor: bool = False
    time_zone: str | None = "UTC"
    country: str | None = None
    region: str | None = None
    sent: tuple[tuple[str, datetime], ...] = ()  # (channel, occurred_at) of messages actually sent
    events: tuple[EventSummary, ...] = ()
    last_inbound_whatsapp: datetime | None = None
    policies: BrandPolicies = field(default_factory=BrandPolicies)


@dataclass(frozen=True, slots=True)
class GateDecision:
    """The gate's answer. ``allowed`` False means suppress: no generation, no send."""

    allowed: bool
    personalization_allowed: bool
    reason_code: GateReason
    message: str
    send_after: datetime | None = None
    whatsapp_template_only: bool = False

    def sendable_at(self, when: datetime) -> bool:
        """Whether a draft produced under this decision may go out at ``when``."""
        return self.allowed and (self.send_after is None or when >= self.send_after)


def resolve_zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def quiet_window(snapshot: GateInput) -> tuple[int, int]:
    qh = snapshot.policies.quiet_hours
    if snapshot.region and snapshot.region.upper() in qh.regional:
        return qh.regional[snapshot.region.upper()]
    return qh.start_hour, qh.end_hour


def next_allowed(when: datetime, zone: ZoneInfo, window: tuple[int, int]) -> datetime | None:
    """None when ``when`` is inside the local window, else the next local window opening, as UTC."""
    start, end = window
    local = when.astimezone(zone)
    if start <= local.hour < end:
        return None
    day = local.date() if local.hour < start else local.date() + timedelta(days=1)
    opening = datetime(day.year, day.month, day.day, start, tzinfo=zone)
    return opening.astimezone(UTC)


def _open_sensitive(snapshot: GateInput, now: datetime) -> EventSummary | None:
    """The latest complaint/refund in the window, unless a later event on the same topic closed it."""
    since = now - timedelta(days=snapshot.policies.sensitive_context_days)
    latest: dict[str, EventSummary] = {}
    for ev in sorted(snapshot.events, key=lambda e: e.occurred_at):
        lowered = ev.name.lower()
        topic = "complaint" if "complaint" in lowered else "refund" if "refund" in lowered else None
        if topic and since <= ev.occurred_at <= now:
            latest[topic] = ev
    for ev in latest.values():
        text = f"{ev.name} {ev.status or ''}".lower()
        if not any(word in text for word in ("resolved", "closed", "cancelled", "rejected")):
            return ev
    return None


def _deny(reason: GateReason, message: str, personal: bool, send_after: datetime | None = None) -> GateDecision:
    return GateDecision(False, personal, reason, message, send_after=send_after)


def evaluate_gate(
    snapshot: GateInput,
    *,
    channel: str,
    purpose: str,
    now: datetime,
    send_at: datetime | None = None,
    realtime: bool,
) -> GateDecision:
    """Decide whether to generate for ``channel`` and ``purpose``; rules run from most to least absolute."""
    channel = Channel(channel).value
    purpose = Purpose(purpose).value
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    when = send_at or now
    policies = snapshot.policies
    personal = personalization_in_force(snapshot.consents, channel, suppressed=snapshot.suppressed)
    marketing = purpose != Purpose.TRANSACTIONAL
    status = status_in_force(snapshot.consents, purpose, channel)

    if marketing and snapshot.suppressed:
        reason = snapshot.suppressed_reason or "objection to direct marketing"
        return _deny(GateReason.GLOBALLY_SUPPRESSED, f"Customer is globally suppressed ({reason}).", personal)
    if status == ConsentStatus.WITHDRAWN or (marketing and status != ConsentStatus.GRANTED):
        state = "withdrawn" if status == ConsentStatus.WITHDRAWN else "missing"
        return _deny(GateReason.NO_CONSENT, f"{purpose} consent for {channel} is {state}.", personal)
    if not marketing:
        return GateDecision(True, personal, GateReason.OK, "Transactional message allowed.")

    local_zone = resolve_zone(snapshot.time_zone)
    local_today = now.astimezone(local_zone or UTC).date()
    if snapshot.is_minor or (
        snapshot.birth_date is not None and age_on(snapshot.birth_date, local_today) < policies.minimum_age
    ):
        return _deny(
            GateReason.MINOR, f"Customer is under {policies.minimum_age}; minors are never targeted.", personal
        )
    sensitive = _open_sensitive(snapshot, now)
    if sensitive is not None:
        return _deny(
            GateReason.SENSITIVE_CONTEXT,
            f"Open '{sensitive.name}' from {sensitive.occurred_at:%Y-%m-%d}: no marketing until it is resolved.",
            personal,
        )

    rule = policies.channels.get(channel)
    if rule is not None:
        sent = sorted(t for ch, t in snapshot.sent if ch == channel and t <= when)
        gap = timedelta(hours=rule.min_gap_hours)
        if sent and when - sent[-1] < gap:
            return _deny(
                GateReason.FATIGUE_MIN_GAP,
                f"Last {channel} message at {sent[-1]:%Y-%m-%d %H:%M} UTC; minimum gap is {rule.min_gap_hours:g} h.",
                personal,
                send_after=sent[-1] + gap,
            )
        week = [t for t in sent if when - t < timedelta(days=7)]
        if len(week) >= rule.max_per_week:
            return _deny(
                GateReason.FATIGUE_WEEKLY_CAP,
                f"{len(week)} {channel} messages in the last 7 days; the cap is {rule.max_per_week}.",
                personal,
            )

    send_after: datetime | None = None
    reason, message = GateReason.OK, "Allowed."
    if realtime or send_at is not None:
        if local_zone is None:
            # Without a valid zone we cannot show the send is outside quiet hours: suppress, never guess.
            return _deny(
                GateReason.UNKNOWN_TIME_ZONE,
                f"Time zone {snapshot.time_zone!r} is unknown; fix the customer's time_zone to send in real time.",
                personal,
            )
        window = quiet_window(snapshot)
        send_after = next_allowed(when, local_zone, window)
        if send_after is not None:
            reason = GateReason.QUIET_HOURS
            message = (
                f"Quiet hours ({window[0]:02d}:00-{window[1]:02d}:00 {local_zone.key}); "
                f"send after {send_after:%Y-%m-%d %H:%M} UTC."
            )

    template_only = False
    if channel == Channel.WHATSAPP:
        last = snapshot.last_inbound_whatsapp
        template_only = last is None or not (timedelta(0) <= when - last <= WHATSAPP_WINDOW)
        if template_only and reason is GateReason.OK:
            reason, message = GateReason.WHATSAPP_TEMPLATE_ONLY, "Outside the 24 h window: approved templates only."
    return GateDecision(True, personal, reason, message, send_after=send_after, whatsapp_template_only=template_only)
