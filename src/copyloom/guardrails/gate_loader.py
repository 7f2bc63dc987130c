"""Builds the gate's snapshot of one customer from SQL (consents in force, history, recent events)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from copyloom.contracts.brand import BrandPolicies
from copyloom.contracts.enums import Channel
from copyloom.domain.activity import gate_events
from copyloom.domain.brand import load_brand_policies
from copyloom.domain.consents import consents_in_force_of
from copyloom.domain.contacts import sent_since
from copyloom.domain.customers import GATE_COLUMNS as GATE_COLUMNS  # re-exported: the journey's sends lock these
from copyloom.domain.customers import find_gate_customer
from copyloom.errors import NotFound
from copyloom.guardrails.gate import WHATSAPP_WINDOW, EventSummary, GateInput


class GateCustomer(Protocol):
    """What the gate reads of a customer: an ORM ``Customer`` or a row of ``GATE_COLUMNS``."""

    @property
    def id(self) -> int: ...
    @property
    def workspace_id(self) -> str: ...
    @property
    def external_id(self) -> str: ...
    @property
    def suppressed(self) -> bool: ...
    @property
    def suppressed_reason(self) -> str | None: ...
    @property
    def birth_date(self) -> date | None: ...
    @property
    def attributes(self) -> dict[str, Any]: ...
    @property
    def time_zone(self) -> str: ...
    @property
    def country(self) -> str | None: ...


class _GateEvent(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def properties(self) -> dict[str, Any]: ...


def _region(customer: GateCustomer) -> str | None:
    attrs: dict[str, Any] = customer.attributes or {}
    region = attrs.get("region")
    if isinstance(region, str) and region:
        return region.upper()
    state = attrs.get("state")
    if isinstance(state, str) and state and customer.country:
        return f"{customer.country.upper()}-{state.upper()}"
    return None


def _is_inbound_whatsapp(ev: _GateEvent) -> bool:
    if ev.name == "WhatsApp Message Received":
        return True
    channel = (ev.properties or {}).get("channel")
    return ev.name == "Inbound Message" and isinstance(channel, str) and channel.lower() == Channel.WHATSAPP


def _is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return "complaint" in lowered or "refund" in lowered


def _windows(policies: BrandPolicies, now: datetime) -> tuple[datetime, datetime]:
    """How far back contact history and events matter for these policies."""
    longest_gap = max((p.min_gap_hours for p in policies.channels.values()), default=0.0)
    history_since = now - max(timedelta(days=7), timedelta(hours=longest_gap))
    events_since = now - max(timedelta(days=policies.sensitive_context_days), WHATSAPP_WINDOW)
    return history_since, events_since


def _snapshot(
    customer: GateCustomer,
    consents: dict[tuple[str, str], str],
    sent: Iterable[tuple[str, datetime]],
    events: Iterable[_GateEvent],
    policies: BrandPolicies,
) -> GateInput:
    events = list(events)
    inbound = [ev.occurred_at for ev in events if _is_inbound_whatsapp(ev)]
    sensitive = tuple(
        EventSummary(ev.name, ev.occurred_at, str((ev.properties or {}).get("status")) if ev.properties else None)
        for ev in events
        if _is_sensitive(ev.name)
    )
    attrs = customer.attributes or {}
    return GateInput(
        customer_id=customer.external_id,
        consents=consents,
        suppressed=customer.suppressed,
        suppressed_reason=customer.suppressed_reason,
        birth_date=customer.birth_date,
        is_minor=bool(attrs.get("is_minor", False)),
        time_zone=customer.time_zone,
        country=customer.country,
        region=_region(customer),
        sent=tuple((ch, at.astimezone(UTC)) for ch, at in sent),
        events=sensitive,
        last_inbound_whatsapp=max(inbound) if inbound else None,
        policies=policies,
    )


def load_gate_input(
    db: Session | Connection,
    workspace_id: str,
    customer_id: str,
    now: datetime,
    *,
    customer: GateCustomer | None = None,
    policies: BrandPolicies | None = None,
) -> GateInput:
    """Snapshot of ``customer_id`` (the brand's external id) in ``workspace_id`` as of ``now``.

    Callers that already loaded the customer row or the brand's policies pass them to save queries on hot paths.
    The queries run on the connection underneath (Core): no ORM unit of work is needed to read a snapshot."""
    conn = db.connection() if isinstance(db, Session) else db
    if customer is None or customer.workspace_id != workspace_id or customer.external_id != customer_id:
        customer = find_gate_customer(conn, workspace_id, customer_id)
    if customer is None:
        raise NotFound(f"Unknown customer {customer_id!r}.", code="customer_not_found")
    if policies is None:
        if isinstance(db, Session):
            policies = load_brand_policies(db, workspace_id)
        else:
            with Session(bind=conn) as session:
                policies = load_brand_policies(session, workspace_id)
    return load_gate_inputs(conn, [customer], now, policies)[customer.id]


def load_gate_inputs(
    session: Session | Connection, customers: Sequence[GateCustomer], now: datetime, policies: BrandPolicies
) -> dict[int, GateInput]:
    """``load_gate_input`` for many customers of one workspace at once (the one implementation: a single
    customer is a batch of one): three queries per 900 customers."""
    conn = session.connection() if isinstance(session, Session) else session
    history_since, events_since = _windows(policies, now)
    pks = [c.id for c in customers]
    consents = consents_in_force_of(conn, pks, now)
    sent = sent_since(conn, pks, history_since)
    events = gate_events(conn, pks, events_since, now)
    return {c.id: _snapshot(c, consents[c.id], sent[c.id], events[c.id], policies) for c in customers}
