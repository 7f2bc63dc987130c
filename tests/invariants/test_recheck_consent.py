"""``recheck_consent``: what campaign persistence asks before storing a target's drafts as sendable."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content.journey.sends import recheck_consent
from copyloom.contracts.enums import Channel, ConsentStatus, Purpose
from copyloom.db import write
from copyloom.domain.consents import ConsentIn, record_consent
from copyloom.guardrails.gate import GateReason
from copyloom.models import Customer, utcnow
from tests.invariants.world import WS, seed_world

pytestmark = pytest.mark.store


def test_recheck_consent_sees_a_withdrawal_and_a_suppression(session_factory: sessionmaker[Session]) -> None:
    world = seed_world(session_factory)
    ext = world.customers[0]
    with write(session_factory) as s:
        pk = s.scalars(select(Customer.id).where(Customer.external_id == ext)).one()
        assert recheck_consent(s, pk, "push", utcnow()) is None
    with write(session_factory) as s:
        record_consent(
            s,
            WS,
            ConsentIn(customer_id=ext, purpose=Purpose.MARKETING, channel=Channel.PUSH, status=ConsentStatus.WITHDRAWN),
        )
    with write(session_factory) as s:
        assert recheck_consent(s, pk, "push", utcnow()) is GateReason.NO_CONSENT
        assert recheck_consent(s, pk, "email", utcnow()) is None  # another channel's consent still holds
        assert recheck_consent(s, pk, "push", utcnow(), Purpose.PERSONALIZATION) is None
        s.get_one(Customer, pk).suppressed = True
        s.flush()
        assert recheck_consent(s, pk, "email", utcnow()) is GateReason.GLOBALLY_SUPPRESSED
