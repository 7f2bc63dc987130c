"""The review queue for reviewers: list, approve, reject, edit; a draft's audit trail; the reviews report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from copyloom.api.deps import AppServices, Content, DbSession, ReviewerPrincipal, require_roles
from copyloom.content.drafts.schemas import DraftOut
from copyloom.content.drafts.views import draft_out
from copyloom.contracts.enums import Channel, Role
from copyloom.db import read
from copyloom.domain import drafts
from copyloom.domain.draft_queue import QueueFilter
from copyloom.domain.fields import UtcDateTime
from copyloom.domain.workspaces import Principal
from copyloom.review import actions
from copyloom.review.actors import actor_names
from copyloom.review.queue import queue_page
from copyloom.review.reports import review_report
from copyloom.review.schemas import (
    ApproveBody,
    DraftHistory,
    EditBody,
    HistoryEntry,
    QueuePage,
    QueueStatus,
    RejectBody,
    ReviewReport,
)

router = APIRouter(tags=["reviews"])
AnyReader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MARKETER, Role.REVIEWER))]
_CONFLICTS: dict[int | str, dict[str, Any]] = {
    409: {"description": "already reviewed, blocked, or changed since you saw it"}
}


def _actor(principal: Principal) -> str:
    return f"key:{principal.key_id}"


def _out(services: AppServices, workspace_id: str, draft_id: str) -> DraftOut:
    with read(services.session_factory) as session:
        draft = drafts.load_draft(session, workspace_id, draft_id)
        return draft_out(draft, drafts.customer_external_id(session, draft))


@router.get("/v1/reviews", summary="The review queue: priority first, then oldest first")
def list_reviews(
    principal: ReviewerPrincipal,
    db: DbSession,
    status: QueueStatus = "pending",
    campaign_id: Annotated[str | None, Query(max_length=32)] = None,
    channel: Channel | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> QueuePage:
    flt = QueueFilter(status=status, campaign_id=campaign_id, channel=channel.value if channel else None)
    return queue_page(db, principal.workspace_id, flt, limit=limit, cursor=cursor)


@router.post(
    "/v1/reviews/{draft_id}/approve",
    summary="Approve a pending draft",
    description="Every flagged check must be listed in `acknowledged_flags` (422 `unacknowledged_flags` names the "
    "missing ones). Blocked drafts answer 409 `draft_blocked`; decided ones 409 `already_reviewed`.",
    responses=_CONFLICTS,
)
def approve(draft_id: str, body: ApproveBody, principal: ReviewerPrincipal, services: AppServices) -> DraftOut:
    actions.approve(services.session_factory, principal.workspace_id, draft_id, body, actor=_actor(principal))
    return _out(services, principal.workspace_id, draft_id)


@router.post("/v1/reviews/{draft_id}/reject", summary="Reject a pending draft with a reason", responses=_CONFLICTS)
def reject(draft_id: str, body: RejectBody, principal: ReviewerPrincipal, services: AppServices) -> DraftOut:
    actions.reject(services.session_factory, principal.workspace_id, draft_id, body, actor=_actor(principal))
    return _out(services, principal.workspace_id, draft_id)


@router.post(
    "/v1/reviews/{draft_id}/edit",
    summary="Edit a pending draft; every guardrail runs again on the new copy",
    description="Passing copy is approved; flagged copy stays pending with the new report (approve it with the "
    "acknowledgements); blocked copy answers 422 `edit_blocked` with the report and nothing changes.",
    responses=_CONFLICTS,
)
def edit(
    draft_id: str, body: EditBody, principal: ReviewerPrincipal, services: AppServices, content: Content
) -> DraftOut:
    actions.edit(content, services.session_factory, principal.workspace_id, draft_id, body, actor=_actor(principal))
    return _out(services, principal.workspace_id, draft_id)


@router.get("/v1/drafts/{draft_id}/history", summary="The append-only audit trail of one draft")
def draft_history(draft_id: str, principal: AnyReader, db: DbSession) -> DraftHistory:
    drafts.load_draft(db, principal.workspace_id, draft_id)  # 404 for unknown drafts and other workspaces'
    rows = drafts.draft_history(db, principal.workspace_id, draft_id)
    names = actor_names(db, principal.workspace_id, (e.actor for e in rows))
    events = [
        HistoryEntry(id=e.id, kind=e.kind, actor=e.actor, actor_name=names[e.actor], at=e.at, data=e.data) for e in rows
    ]
    return DraftHistory(draft_id=draft_id, events=events)


@router.get("/v1/reports/reviews", summary="Approval rate, reject reasons and edited phrases per prompt and channel")
def reviews_report(
    principal: ReviewerPrincipal,
    db: DbSession,
    since: UtcDateTime | None = None,
    until: UtcDateTime | None = None,
    channel: Channel | None = None,
) -> ReviewReport:
    return review_report(
        db, principal.workspace_id, since=since, until=until, channel=channel.value if channel else None
    )
