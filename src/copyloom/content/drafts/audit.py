"""The append-only audit trail. Rows are only ever inserted; nothing here updates or deletes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.models import DraftEvent, utcnow


def record_event(
    session: Session, *, workspace_id: str, draft_id: str, kind: str, actor: str, data: dict[str, Any] | None = None
) -> DraftEvent:
    event = DraftEvent(
        workspace_id=workspace_id, draft_id=draft_id, kind=kind, actor=actor, data=data or {}, at=utcnow()
    )
    session.add(event)
    return event


def history(session: Session, workspace_id: str, draft_id: str) -> list[DraftEvent]:
    return list(
        session.scalars(
            select(DraftEvent)
            .where(DraftEvent.workspace_id == workspace_id, DraftEvent.draft_id == draft_id)
            .order_by(DraftEvent.id)
        )
    )
