"""The review queue's repository: drafts of one workspace in queue order, by priority (highest first), then age
(oldest first), keyset-paginated; counts; neighbours of a draft; the campaigns that have drafts."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import DraftStatus
from copyloom.errors import InvalidInput
from copyloom.models import Campaign, Draft


@dataclass(frozen=True)
class QueueFilter:
    status: str = "pending"
    campaign_id: str | None = None
    channel: str | None = None


def _encode_cursor(d: Draft) -> str:
    return base64.urlsafe_b64encode(json.dumps([d.review_priority, d.created_at.isoformat(), d.id]).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, datetime, str]:
    try:
        priority, created, draft_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return int(priority), datetime.fromisoformat(created), str(draft_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("cursor is not one this API returned", code="invalid_cursor", field="cursor") from exc


def _scope(workspace_id: str, flt: QueueFilter) -> list[ColumnElement[bool]]:
    where = [Draft.workspace_id == workspace_id]
    if flt.campaign_id is not None:
        where.append(Draft.campaign_id == flt.campaign_id)
    if flt.channel is not None:
        where.append(Draft.channel == flt.channel)
    return where


def _after(priority: int, created: datetime, draft_id: str) -> ColumnElement[bool]:
    """Rows that come after (priority, created, id) in queue order."""
    return or_(
        Draft.review_priority < priority,
        and_(
            Draft.review_priority == priority,
            or_(Draft.created_at > created, and_(Draft.created_at == created, Draft.id > draft_id)),
        ),
    )


def _before(priority: int, created: datetime, draft_id: str) -> ColumnElement[bool]:
    return or_(
        Draft.review_priority > priority,
        and_(
            Draft.review_priority == priority,
            or_(Draft.created_at < created, and_(Draft.created_at == created, Draft.id < draft_id)),
        ),
    )


_ORDER = (Draft.review_priority.desc(), Draft.created_at.asc(), Draft.id.asc())
_REVERSE = (Draft.review_priority.asc(), Draft.created_at.desc(), Draft.id.desc())


def status_counts(session: Session, workspace_id: str, flt: QueueFilter) -> tuple[dict[str, int], dict[str, int]]:
    """(drafts by status, pending drafts by channel) within the filter's campaign (and channel, for the first)."""
    # .all(): Result objects have .keys(), so dict(result) would take them for mappings.
    by_status: dict[str, int] = dict(
        session.execute(select(Draft.status, func.count()).where(*_scope(workspace_id, flt)).group_by(Draft.status))
        .tuples()
        .all()
    )
    channel_scope = _scope(workspace_id, QueueFilter(campaign_id=flt.campaign_id))
    by_channel: dict[str, int] = dict(
        session.execute(
            select(Draft.channel, func.count())
            .where(*channel_scope, Draft.status == DraftStatus.PENDING_REVIEW)
            .group_by(Draft.channel)
        )
        .tuples()
        .all()
    )
    return by_status, by_channel


def queue_rows(
    session: Session, workspace_id: str, flt: QueueFilter, status: str, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Draft], str | None]:
    """One page of drafts with the stored ``status`` in queue order and the next page's cursor (None on the last)."""
    query = select(Draft).where(*_scope(workspace_id, flt), Draft.status == status)
    if cursor:
        query = query.where(_after(*_decode_cursor(cursor)))
    rows = list(session.scalars(query.order_by(*_ORDER).limit(limit + 1)))
    return rows[:limit], _encode_cursor(rows[limit - 1]) if len(rows) > limit else None


def neighbours(session: Session, draft: Draft, flt: QueueFilter) -> tuple[str | None, str | None]:
    """Ids of the previous and next pending drafts around ``draft`` in queue order (j/k in the web page)."""
    key = (draft.review_priority, draft.created_at, draft.id)
    base = select(Draft.id).where(*_scope(draft.workspace_id, flt), Draft.status == DraftStatus.PENDING_REVIEW)
    prev_id = session.scalars(base.where(_before(*key)).order_by(*_REVERSE).limit(1)).first()
    next_id = session.scalars(base.where(_after(*key)).order_by(*_ORDER).limit(1)).first()
    return prev_id, next_id


def campaigns_with_drafts(session: Session, workspace_id: str) -> list[tuple[str, str]]:
    """(id, name) of the campaigns that have drafts, by name."""
    ids = select(Draft.campaign_id).where(Draft.workspace_id == workspace_id, Draft.campaign_id.is_not(None))
    rows = session.execute(
        select(Campaign.id, Campaign.name)
        .where(Campaign.workspace_id == workspace_id, Campaign.id.in_(ids.distinct()))
        .order_by(Campaign.name, Campaign.id)
    )
    return [(str(i), str(n)) for i, n in rows]


def campaign_name(session: Session, workspace_id: str, campaign_id: str | None) -> str | None:
    if campaign_id is None:
        return None
    return session.scalar(
        select(Campaign.name).where(Campaign.workspace_id == workspace_id, Campaign.id == campaign_id)
    )
