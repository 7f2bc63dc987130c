"""``load_gate_input`` reads consents in force, suppression, history and events from SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from copyloom.errors import NotFound
from copyloom.guardrails.gate import GateReason, evaluate_gate
from copyloom.guardrails.gate_loader import load_gate_input
from copyloom.models import BrandKit, Consent, ContactRecord, Customer, Event

NOW = datetime(2025, 12, 30, 17, 0, tzinfo=UTC)


def _customer(db: Session, ws: str, ext: str = "c1", **kw: object) -> Customer:
    c = Customer(workspace_id=ws, external_id=ext, time_zone="America/New_York", country="US", **kw)
    db.add(c)
    db.flush()
    return c


def _consent(db: Session, ws: str, c: Customer, purpose: str, channel: str, status: str, hours_ago: float) -> None:
    db.add(
        Consent(
            workspace_id=ws,
            customer_id=c.id,
            purpose=purpose,
            channel=channel,
            status=status,
            recorded_at=NOW - timedelta(hours=hours_ago),
        )
    )


def test_latest_consent_record_is_in_force(db: Session, workspace: str) -> None:
    c = _customer(db, workspace)
    _consent(db, workspace, c, "marketing", "sms", "granted", 100)
    _consent(db, workspace, c, "marketing", "sms", "withdrawn", 10)
    _consent(db, workspace, c, "marketing", "email", "withdrawn", 100)
    _consent(db, workspace, c, "marketing", "email", "granted", 10)
    db.flush()
    snap = load_gate_input(db, workspace, "c1", NOW)
    assert snap.consents[("marketing", "sms")] == "withdrawn"
    assert snap.consents[("marketing", "email")] == "granted"
    assert evaluate_gate(snap, channel="sms", purpose="marketing", now=NOW, realtime=False).reason_code is (
        GateReason.NO_CONSENT
    )


def test_history_events_region_and_policies_are_loaded(db: Session, workspace: str) -> None:
    c = _customer(db, workspace, birth_date=date(1990, 5, 1), attributes={"region": "us-fl"}, suppressed=False)
    other = _customer(db, workspace, "c2")
    _consent(db, workspace, c, "marketing", "whatsapp", "granted", 50)
    db.add_all(
        [
            ContactRecord(
                workspace_id=workspace,
                customer_id=c.id,
                channel="sms",
                kind="sent",
                occurred_at=NOW - timedelta(hours=3),
            ),
            ContactRecord(
                workspace_id=workspace,
                customer_id=c.id,
                channel="sms",
                kind="suppressed",
                occurred_at=NOW - timedelta(hours=1),
            ),
            ContactRecord(
                workspace_id=workspace,
                customer_id=other.id,
                channel="email",
                kind="sent",
                occurred_at=NOW - timedelta(hours=1),
            ),
            Event(
                workspace_id=workspace,
                customer_id=c.id,
                external_id="e1",
                name="Inbound Message",
                properties={"channel": "whatsapp"},
                occurred_at=NOW - timedelta(hours=5),
            ),
            Event(
                workspace_id=workspace,
                customer_id=c.id,
                external_id="e2",
                name="Inbound Message",
                properties={"channel": "email"},
                occurred_at=NOW - timedelta(hours=1),
            ),
            Event(
                workspace_id=workspace,
                customer_id=c.id,
                external_id="e3",
                name="Refund Requested",
                properties={},
                occurred_at=NOW - timedelta(days=2),
            ),
            Event(
                workspace_id=workspace,
                customer_id=c.id,
                external_id="e4",
                name="Order Completed",
                properties={},
                occurred_at=NOW - timedelta(days=1),
            ),
            BrandKit(workspace_id=workspace, name="Northwind", policies={"minimum_age": 21}),
        ]
    )
    db.flush()
    snap = load_gate_input(db, workspace, "c1", NOW)
    assert snap.region == "US-FL"
    assert [ch for ch, _ in snap.sent] == ["sms"]
    assert snap.last_inbound_whatsapp == NOW - timedelta(hours=5)
    assert [e.name for e in snap.events] == ["Refund Requested"]
    assert snap.policies.minimum_age == 21
    decision = evaluate_gate(snap, channel="whatsapp", purpose="marketing", now=NOW, realtime=False)
    assert decision.reason_code is GateReason.SENSITIVE_CONTEXT


def test_unknown_customer_and_other_workspace_are_not_found(db: Session, workspace: str) -> None:
    with pytest.raises(NotFound):
        load_gate_input(db, workspace, "nobody", NOW)
    _customer(db, workspace, "c9")
    db.flush()
    with pytest.raises(NotFound):
        load_gate_input(db, "other-workspace", "c9", NOW)
