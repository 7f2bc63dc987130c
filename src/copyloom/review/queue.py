"""The review queue: drafts of one workspace by priority (highest first), then age (oldest first); the SQL is in
``domain/draft_queue.py``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from copyloom.contracts.enums import DraftStatus
from copyloom.domain import draft_queue
from copyloom.domain.draft_queue import QueueFilter
from copyloom.domain.drafts import customer_labels
from copyloom.errors import InvalidInput
from copyloom.models import Draft
from copyloom.review.schemas import STATUS_COLUMN, QueueCounts, QueueItem, QueuePage

PREVIEW_CHARS = 140
# The field a person reads first, per channel.
_LEAD_FIELD = {"email": "subject", "push": "title", "in_app": "title", "web": "headline"}


def flagged_checks(report: dict[str, Any]) -> list[str]:
    return [r["check"] for r in report.get("results", []) if r.get("verdict") == "flag"]


def preview(channel: str, content: dict[str, Any]) -> str:
    text = str(
        content.get(_LEAD_FIELD.get(channel, "text")) or content.get("body") or content.get("template_name") or ""
    )
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def queue_counts(session: Session, workspace_id: str, flt: QueueFilter) -> QueueCounts:
    by_status, by_channel = draft_queue.status_counts(session, workspace_id, flt)
    return QueueCounts(
        pending=by_status.get(DraftStatus.PENDING_REVIEW, 0),
        approved=by_status.get(DraftStatus.APPROVED, 0),
        rejected=by_status.get(DraftStatus.REJECTED, 0),
        blocked=by_status.get(DraftStatus.BLOCKED, 0),
        pending_by_channel=dict(sorted(by_channel.items())),
    )


def list_queue(
    session: Session, workspace_id: str, flt: QueueFilter, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Draft], str | None]:
    """One page of drafts in queue order and the cursor of the next page (None on the last)."""
    if flt.status not in STATUS_COLUMN:
        raise InvalidInput(f"status must be one of {', '.join(STATUS_COLUMN)}", code="invalid_status", field="status")
    return draft_queue.queue_rows(session, workspace_id, flt, STATUS_COLUMN[flt.status], limit=limit, cursor=cursor)


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
