"""The review queue: drafts of one workspace by priority (highest first), then age (oldest first)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from copyloom.errors import InvalidInput
from copyloom.models import Campaign, Customer, Draft
from copyloom.review.schemas import STATUS_COLUMN, QueueCounts, QueueItem, QueuePage

PREVIEW_CHARS = 140
# The field a person reads first, per channel.
_LEAD_FIELD = {"email": "subject", "push": "title", "in_app": "title", "web": "headline"}


@dataclass(frozen=True)
class QueueFilter:
    status: str = "pending"
    campaign_id: str | None = None
    channel: str | None = None


def flagged_checks(report: dict[str, Any]) -> list[str]:
    return [r["check"] for r in report.get("results", []) if r.get("verdict") == "flag"]


def preview(channel: str, content: dict[str, Any]) -> str:
    text = str(
        content.get(_LEAD_FIELD.get(channel, "text")) or content.get("body") or content.get("template_name") or ""
    )
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


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


def queue_counts(session: Session, workspace_id: str, flt: QueueFilter) -> QueueCounts:
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
            .where(*channel_scope, Draft.status == "pending_review")
            .group_by(Draft.channel)
        )
        .tuples()
        .all()
    )
    return QueueCounts(
        pending=by_status.get("pending_review", 0),
        approved=by_status.get("approved", 0),
        rejected=by_status.get("rejected", 0),
        blocked=by_status.get("blocked", 0),
        pending_by_channel=dict(sorted(by_channel.items())),
    )


def customer_labels(session: Session, drafts: list[Draft]) -> dict[int, tuple[str, str | None]]:
    """customer pk -> (external id, name) for the given drafts."""
    pks = {d.customer_id for d in drafts if d.customer_id is not None}
    if not pks:
        return {}
    rows = session.execute(select(Customer.id, Customer.external_id, Customer.name).where(Customer.id.in_(pks)))
    return {pk: (ext, name) for pk, ext, name in rows}


def list_queue(
    session: Session, workspace_id: str, flt: QueueFilter, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Draft], str | None]:
    """One page of drafts in queue order and the cursor of the next page (None on the last)."""
    if flt.status not in STATUS_COLUMN:
        raise InvalidInput(f"status must be one of {', '.join(STATUS_COLUMN)}", code="invalid_status", field="status")
    query = select(Draft).where(*_scope(workspace_id, flt), Draft.status == STATUS_COLUMN[flt.status])
    if cursor:
        query = query.where(_after(*_decode_cursor(cursor)))
    rows = list(session.scalars(query.order_by(*_ORDER).limit(limit + 1)))
    return rows[:limit], _encode_cursor(rows[limit - 1]) if len(rows) > limit else None


def queue_page(
    session: Session, workspace_id: str, flt: QueueFilter, *, limit: int = 50, cursor: str | None = None
) -> QueuePage:
    drafts, next_cursor = list_queue(session, workspace_id, flt, limit=limit, cursor=cursor)
    labels = customer_labels(session, drafts)
    items = [
        QueueItem(
            id=d.id,
            customer_id=labels[d.customer_id][0] if d.customer_id in labels else None,
            campaign_id=d.campaign_id,
            channel=d.channel,
            locale=d.locale,
            status=d.status,
            verdict=d.verdict,
            flags=flagged_checks(d.guardrail_report),
            review_reason=d.review_reason,
            review_priority=d.review_priority,
            preview=preview(d.channel, d.content),
            version=d.version,
            created_at=d.created_at,
        )
        for d in drafts
    ]
    return QueuePage(items=items, next_cursor=next_cursor, counts=queue_counts(session, workspace_id, flt))


def neighbours(session: Session, draft: Draft, flt: QueueFilter) -> tuple[str | None, str | None]:
    """Ids of the previous and next pending drafts around ``draft`` in queue order (j/k in the web page)."""
    key = (draft.review_priority, draft.created_at, draft.id)
    base = select(Draft.id).where(*_scope(draft.workspace_id, flt), Draft.status == "pending_review")
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
