"""One consent rule (``domain.consents``): the gate and retrieval give the same answer for every consent history.

Before the rule was one function, retrieval fell back to the latest personalization record on *any* channel, so a
customer who granted personalization for email only got an SMS draft written from personal data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import Goal
from copyloom.contracts.facts import FactKind
from copyloom.domain.brief import Brief
from copyloom.guardrails.gate import evaluate_gate
from copyloom.guardrails.gate_loader import load_gate_input
from copyloom.models import Consent, Customer
from copyloom.retrieval.bundle import build_bundle
from copyloom.retrieval.customer_data import personalization_allowed
from copyloom.retrieval.store import VectorStore
from tests.fakes import HashEmbedder
from tests.retrieval import seed

PERSONAL = {FactKind.PROFILE, FactKind.PURCHASE, FactKind.EVENT, FactKind.CONTACT, FactKind.NOTE}
AT = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def test_personalization_granted_for_email_only_gives_an_sms_bundle_without_personal_data(
    db: Session, local_chroma: Any
) -> None:
    seed.workspace(db, "w")
    c = seed.customer(db, "w", "c1", personalization="granted", channels=("email",))
    seed.product(db, "w", "TENT", "Trail tent")
    seed.order(db, "w", c, "o1", [("TENT", 1, "199.00")], days_ago=20)
    embedder = HashEmbedder()
    store = VectorStore(local_chroma, embedder)
    bundles = {
        ch: build_bundle(
            db,
            store,
            embedder,
            workspace_id="w",
            customer_external_id="c1",
            brief=Brief(goal=Goal.CROSS_SELL),
            channel=ch,
            now=seed.NOW,
        )
        for ch in ("email", "sms")
    }
    assert bundles["email"].personalization_allowed
    assert not bundles["sms"].personalization_allowed
    assert not {f.kind for f in bundles["sms"].facts} & PERSONAL
    gate = evaluate_gate(
        load_gate_input(db, "w", "c1", seed.NOW), channel="sms", purpose="marketing", now=seed.NOW, realtime=False
    )
    assert gate.personalization_allowed is bundles["sms"].personalization_allowed


_CHANNELS = ["email", "sms", "push", "*"]
_record = st.tuples(
    st.sampled_from(["personalization", "marketing"]),
    st.sampled_from(_CHANNELS),
    st.sampled_from(["granted", "withdrawn"]),
    st.integers(min_value=-3, max_value=3),  # hours from AT: some records are not in force yet
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(_record, max_size=6), suppressed=st.booleans())
def test_gate_and_retrieval_agree_on_personalization_for_any_history(
    db: Session, history: list[tuple[str, str, str, int]], suppressed: bool
) -> None:
    if db.scalar(select(Customer.id).where(Customer.external_id == "p1")) is None:  # the first example
        seed.workspace(db, "wp")
        seed.customer(db, "wp", "p1", personalization=None)
    customer = db.scalars(select(Customer).where(Customer.external_id == "p1")).one()
    customer.suppressed = suppressed
    db.execute(delete(Consent).where(Consent.customer_id == customer.id))
    rows = sorted({(p, ch, s, AT + timedelta(hours=h)) for p, ch, s, h in history}, key=lambda r: r[3])
    db.add_all(
        Consent(workspace_id="wp", customer_id=customer.id, purpose=p, channel=ch, status=s, recorded_at=at)
        for p, ch, s, at in rows
    )
    db.flush()
    snapshot = load_gate_input(db, "wp", "p1", AT)
    channels = [c for c in _CHANNELS if c != "*"]
    retrieval = personalization_allowed(db, customer, channels, AT)
    for channel in channels:
        gate = evaluate_gate(snapshot, channel=channel, purpose="transactional", now=AT, realtime=False)
        assert gate.personalization_allowed is retrieval[channel], (channel, rows)
        assert retrieval[channel] is (not suppressed and _oracle(rows, channel) == "granted"), (channel, rows)


def _oracle(rows: list[tuple[str, str, str, datetime]], channel: str) -> str | None:
    """The rule written out independently: the channel's own records, else every-channel ones; the latest record
    in force wins (a withdrawal on a tie, and a withdrawal even if stamped after the moment asked about)."""
    for ch in (channel, "*"):
        in_force = [
            (at, s == "withdrawn", s)
            for p, c, s, at in rows
            if p == "personalization" and c == ch and (at <= AT or s == "withdrawn")
        ]
        if in_force:
            return max(in_force)[2]
    return None
