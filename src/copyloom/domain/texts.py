"""Free text the brand hands us: customer notes (untrusted), and brand knowledge (the brand kit is in
``domain.brand``).

Notes are stored as sent; they reach prompts only fenced as data (retrieval/prompts do that), so here they are
only capped in length.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.domain.customers import get_customer
from copyloom.domain.fields import ExternalId, Locale, LongText, Title, UtcDateTime
from copyloom.domain.imports import ImportReport, Outcome, import_rows, upsert_row
from copyloom.models import KnowledgeItem, Note

NoteText = LongText


class NoteIn(BaseModel):
    """A free-text note about a customer: a support message, a review, an agent's remark."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["support", "review", "agent", "survey", "other"] = "support"
    text: NoteText = Field(min_length=1)
    created_at: UtcDateTime | None = None


class NoteRecordIn(NoteIn):
    """A note in a batch: the same fields plus its own ``id`` and the ``customer_id``."""

    id: ExternalId
    customer_id: ExternalId


class KnowledgeIn(BaseModel):
    """Brand knowledge: a guideline, an FAQ answer, an approved claim, or an event the brand invites customers to
    (its title and text, with the date and place, are what an invitation may say)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["guideline", "faq", "claim", "event"] = "guideline"
    title: Title
    text: LongText = Field(min_length=1)
    locale: Locale = "en"


def upsert_note(
    session: Session, workspace_id: str, customer_external_id: str, note_id: str, data: NoteIn
) -> tuple[Note, Outcome]:
    """Create or replace one note of a known customer (NotFound otherwise)."""
    customer = get_customer(session, workspace_id, customer_external_id)
    row = session.scalars(select(Note).where(Note.workspace_id == workspace_id, Note.external_id == note_id)).first()
    values: dict[str, object] = {"customer_id": customer.id, "kind": data.kind, "text": data.text}
    if data.created_at is not None:
        values["created_at"] = data.created_at
    return upsert_row(session, row, Note(workspace_id=workspace_id, external_id=note_id), values)


def import_notes(session: Session, workspace_id: str, rows: Iterable[object]) -> ImportReport:
    """Upsert many notes (dicts with ``id``, ``customer_id`` and NoteIn fields)."""

    def apply(s: Session, record: NoteRecordIn) -> Outcome:
        return upsert_note(s, workspace_id, record.customer_id, record.id, record)[1]

    return import_rows(session, rows, NoteRecordIn, apply)


def upsert_knowledge(
    session: Session, workspace_id: str, external_id: str, data: KnowledgeIn
) -> tuple[KnowledgeItem, Outcome]:
    """Create or replace one knowledge item; identical data is "unchanged"."""
    row = session.scalars(
        select(KnowledgeItem).where(
            KnowledgeItem.workspace_id == workspace_id, KnowledgeItem.external_id == external_id
        )
    ).first()
    new_row = KnowledgeItem(workspace_id=workspace_id, external_id=external_id)
    return upsert_row(session, row, new_row, data.model_dump())
