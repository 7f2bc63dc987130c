"""The drafts' repository: the SQL on drafts and on their append-only audit trail (draft events).

Services in ``content/drafts``, ``content/journey`` and ``review`` compose these; the review queue's ordering and
pages are in ``domain/draft_queue.py``. Nothing here commits: the caller's unit of work does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, union_all, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, defer

from copyloom.contracts.enums import DraftStatus
from copyloom.db import in_chunks
from copyloom.domain.pages import keyset_page
from copyloom.errors import Conflict, NotFound
from copyloom.models import Customer, Draft, DraftEvent, utcnow


def load_draft(session: Session, workspace_id: str, draft_id: str) -> Draft:
    """The draft of this workspace, or 404 ``draft_not_found``."""
    draft = session.get(Draft, draft_id)
    if draft is None or draft.workspace_id != workspace_id:
        raise NotFound(f"no draft {draft_id!r}", code="draft_not_found", field="draft_id")
    return draft


def customer_labels(session: Session, drafts: Iterable[Draft]) -> dict[int, tuple[str, str | None]]:
    """customer pk -> (external id, name) for the customers of the given drafts."""
    pks = {d.customer_id for d in drafts if d.customer_id is not None}
    if not pks:
        return {}
    rows = session.execute(select(Customer.id, Customer.external_id, Customer.name).where(Customer.id.in_(pks)))
    return {pk: (ext, name) for pk, ext, name in rows}


def customer_external_id(session: Session, draft: Draft) -> str | None:
    """The brand's id of the draft's customer (None for a control draft)."""
    return customer_labels(session, [draft]).get(draft.customer_id or 0, (None, None))[0]


def draft_page(
    session: Session,
    workspace_id: str,
    *,
    customer_pk: int | None = None,
    status: str | None = None,
    channel: str | None = None,
    campaign_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Draft], str | None]:
    """Newest first, keyset-paginated (stable under concurrent inserts); the next page's cursor or None."""
    query = select(Draft).where(Draft.workspace_id == workspace_id)
    if customer_pk is not None:
        query = query.where(Draft.customer_id == customer_pk)
    if status is not None:
        query = query.where(Draft.status == status)
    if channel is not None:
        query = query.where(Draft.channel == channel)
    if campaign_id is not None:
        query = query.where(Draft.campaign_id == campaign_id)
    return keyset_page(session, query, Draft, limit=limit, cursor=cursor)


def compare_and_set(session: Session, seen: Draft, values: dict[str, Any]) -> Draft:
    """Change a pending draft only if it is still the version ``seen``; 409 ``already_reviewed`` otherwise.

    The UPDATE is the first statement of the caller's write transaction: on SQLite a transaction that read first
    cannot take the write lock after another writer committed, while one that writes first simply waits."""
    stmt = (
        update(Draft)
        .where(
            Draft.id == seen.id,
            Draft.workspace_id == seen.workspace_id,
            Draft.version == seen.version,
            Draft.status == DraftStatus.PENDING_REVIEW,
        )
        .values(version=Draft.version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    try:
        updated = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    except OperationalError as exc:
        # SQLite could not take the write lock within its timeout: another decision holds it.
        if "locked" not in str(exc).lower():
            raise
        updated = 0
    if updated != 1:
        raise Conflict("another reviewer decided on this draft first", code="already_reviewed")
    fresh = session.get(Draft, seen.id, populate_existing=True)
    assert fresh is not None
    return fresh


# Built once: these run on every decision. What a decision reads of a draft: every column but the stored facts
# bundle, the heaviest, which a decision never needs.
_DRAFT_COLUMNS = [c for c in Draft.__table__.c if c.name != "bundle"]
# The campaign's drafts that concern one customer: their own (any channel and status) and the controls. Two
# index range scans on (campaign, customer): an OR of the two would scan every draft of the campaign.
_CAMPAIGN_DRAFTS = union_all(
    select(*_DRAFT_COLUMNS).where(Draft.campaign_id == bindparam("campaign"), Draft.customer_id == bindparam("pk")),
    select(*_DRAFT_COLUMNS).where(Draft.campaign_id == bindparam("campaign"), Draft.customer_id.is_(None)),
).order_by("variant_index", "created_at")


def campaign_drafts_for(db: Connection | Session, campaign_id: str, customer_pk: int) -> list[Row[Any]]:
    """The campaign's drafts a decision for this customer chooses from: their own and the controls, by variant."""
    return list(db.execute(_CAMPAIGN_DRAFTS, {"campaign": campaign_id, "pk": customer_pk}).all())


def campaign_drafts(
    session: Session, campaign_ids: Sequence[str], customer_pks: Sequence[int]
) -> dict[tuple[str, int | None], list[Draft]]:
    """``campaign_drafts_for`` for many customers at once: (campaign, customer pk) -> drafts, (campaign, None) ->
    the controls; by variant, without the facts bundle."""
    drafts: dict[tuple[str, int | None], list[Draft]] = defaultdict(list)
    lightweight = defer(Draft.bundle)
    for d in session.scalars(
        select(Draft)
        .options(lightweight)
        .where(Draft.campaign_id.in_(list(campaign_ids)), Draft.is_control.is_(True))
        .order_by(Draft.variant_index, Draft.created_at)
    ):
        drafts[(d.campaign_id or "", None)].append(d)
    for chunk in in_chunks(sorted(customer_pks)):
        for d in session.scalars(
            select(Draft)
            .options(lightweight)
            .where(Draft.campaign_id.in_(list(campaign_ids)), Draft.customer_id.in_(chunk))
            .order_by(Draft.variant_index, Draft.created_at)
        ):
            drafts[(d.campaign_id or "", d.customer_id)].append(d)
    return drafts


def draft_event_row(
    *, workspace_id: str, draft_id: str, kind: str, actor: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One entry of a draft's audit trail, as the row ``draft_events`` stores."""
    return {
        "workspace_id": workspace_id,
        "draft_id": draft_id,
        "kind": kind,
        "actor": actor,
        "data": data or {},
        "at": utcnow(),
    }


def record_draft_event(
    session: Session, *, workspace_id: str, draft_id: str, kind: str, actor: str, data: dict[str, Any] | None = None
) -> DraftEvent:
    """Append to a draft's audit trail. Rows are only ever inserted; nothing updates or deletes them."""
    event = DraftEvent(
        **draft_event_row(workspace_id=workspace_id, draft_id=draft_id, kind=kind, actor=actor, data=data)
    )
    session.add(event)
    return event


class NewDrafts:
    """The new drafts of one unit of work and their audit trails' first entries (see ``new_drafts``)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._events: list[dict[str, Any]] = []

    def add(self, draft: Draft, events: Iterable[dict[str, Any]]) -> Draft:
        """Add ``draft`` and its audit entries (rows of ``draft_event_row``), written by ``write``."""
        self.session.add(draft)
        self._events.extend(events)
        return draft

    def write(self) -> None:
        """Flush the drafts, then insert every audit entry in one statement. Entries are not ORM objects: an
        ORM insert reads each new row's id back, which on SQLite is one INSERT per row (six per customer of a
        campaign); nothing needs those ids."""
        self.session.flush()
        if self._events:
            self.session.execute(insert(DraftEvent), self._events)
            self._events = []


@contextmanager
def new_drafts(session: Session) -> Iterator[NewDrafts]:
    """Add new drafts in the block; when it ends without an error, they and their audit entries are written (a
    flush and one INSERT of the entries; never a commit)."""
    drafts = NewDrafts(session)
    yield drafts
    drafts.write()


def draft_history(session: Session, workspace_id: str, draft_id: str) -> list[DraftEvent]:
    """A draft's audit trail, oldest first."""
    return list(
        session.scalars(
            select(DraftEvent)
            .where(DraftEvent.workspace_id == workspace_id, DraftEvent.draft_id == draft_id)
            .order_by(DraftEvent.id)
        )
    )


def review_events(
    session: Session,
    workspace_id: str,
    kinds: Sequence[str],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    channel: str | None = None,
) -> list[tuple[Any, ...]]:
    """Audit events of the given kinds, oldest first, each with its draft's channel and generator:
    (draft_id, kind, actor, data, channel, generator)."""
    query = (
        select(DraftEvent.draft_id, DraftEvent.kind, DraftEvent.actor, DraftEvent.data, Draft.channel, Draft.generator)
        .join(Draft, Draft.id == DraftEvent.draft_id)
        .where(DraftEvent.workspace_id == workspace_id, DraftEvent.kind.in_(kinds))
        .order_by(DraftEvent.id)
    )
    if since is not None:
        query = query.where(DraftEvent.at >= since)
    if until is not None:
        query = query.where(DraftEvent.at < until)
    if channel is not None:
        query = query.where(Draft.channel == channel)
    return [tuple(row) for row in session.execute(query)]
