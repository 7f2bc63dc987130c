"""Outcomes reported by the sending platform. ``unsubscribed`` withdraws consent at once; ``complained`` opens a
complaint, which the gate treats as a sensitive context."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from copyloom.content.journey.schemas import OutcomeIn, OutcomeOut
from copyloom.contracts.enums import ConsentStatus, Purpose
from copyloom.domain.consents import lock_customer
from copyloom.domain.customers import get_customer
from copyloom.domain.drafts import load_draft
from copyloom.errors import InvalidInput
from copyloom.models import Consent, Event, Outcome, new_id, utcnow


def record_outcome(session: Session, workspace_id: str, body: OutcomeIn, now: datetime | None = None) -> OutcomeOut:
    fixed_now = now  # tests pin the clock
    now = now or utcnow()
    draft = load_draft(session, workspace_id, body.draft_id)
    customer_pk = draft.customer_id
    if body.customer_id is not None:
        customer = get_customer(session, workspace_id, body.customer_id)
        if customer_pk is not None and customer.id != customer_pk:
            raise InvalidInput(
                "this draft was written for another customer", code="customer_mismatch", field="customer_id"
            )
        customer_pk = customer.id
    elif customer_pk is None and body.event in ("unsubscribed", "complained"):
        raise InvalidInput(
            "a control draft goes to many customers: say which one", code="customer_id_required", field="customer_id"
        )
    when = body.occurred_at or now
    row = Outcome(
        workspace_id=workspace_id, draft_id=draft.id, campaign_id=draft.campaign_id, event=body.event, occurred_at=when
    )
    session.add(row)
    withdrawn = False
    if customer_pk is not None and body.event == "unsubscribed":
        # Withdrawal must be as easy as consent (GDPR Art. 7(3)): effective for the next decision. The customer's
        # lock orders it with the sends (``sends.record_sends``): a send is committed before it, or refused.
        lock_customer(session, customer_pk)
        now = fixed_now or utcnow()  # stamped once the lock is held: in commit order with the sends
        session.add(
            Consent(
                workspace_id=workspace_id,
                customer_id=customer_pk,
                purpose=Purpose.MARKETING.value,
                channel=draft.channel,
                status=ConsentStatus.WITHDRAWN.value,
                recorded_at=max(when, now),
                source=f"outcome:unsubscribed:draft:{draft.id}",
                wording_version=None,
            )
        )
        withdrawn = True
    if customer_pk is not None and body.event == "complained":
        session.add(
            Event(
                workspace_id=workspace_id,
                customer_id=customer_pk,
                external_id=f"complaint-{new_id()}",
                name="Complaint Opened",
                properties={"status": "open", "source": "outcome", "draft_id": draft.id, "channel": draft.channel},
                occurred_at=when,
            )
        )
    session.flush()
    return OutcomeOut(id=row.id, draft_id=draft.id, event=body.event, occurred_at=when, consent_withdrawn=withdrawn)
