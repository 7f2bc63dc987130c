"""Campaigns (marketer) and their variant statistics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from copyloom.api.deps import AppServices, Content, DbSession, MarketerPrincipal, submit_after_commit
from copyloom.content.campaigns.schemas import CampaignCreate, CampaignOut, CampaignStats
from copyloom.content.campaigns.service import (
    campaign_out,
    cancel_campaign,
    create_campaign,
    pause_campaign,
    resume_campaign,
    retry_failed,
)
from copyloom.content.campaigns.stats import campaign_stats
from copyloom.contracts.enums import CampaignStatus
from copyloom.domain.listings import CampaignPage, list_campaigns
from copyloom.domain.pages import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


@router.post(
    "",
    status_code=202,
    summary="Create a campaign; drafts are generated per customer in the background",
    description="Targets (customer × channel) and the control drafts are stored at once; generation resumes "
    "after a restart without duplicating anything. Poll `GET /v1/campaigns/{id}` for progress.",
)
def post_campaign(
    body: CampaignCreate, principal: MarketerPrincipal, db: DbSession, services: AppServices, content: Content
) -> CampaignOut:
    campaign = create_campaign(db, content, principal.workspace_id, body)
    submit_after_commit(db, services, "campaign.run", {"campaign_id": campaign.id})
    return campaign_out(db, principal.workspace_id, campaign.id)


@router.get("/{campaign_id}", summary="A campaign with its progress (counts by status, percentage)")
def get_campaign(campaign_id: str, principal: MarketerPrincipal, db: DbSession) -> CampaignOut:
    return campaign_out(db, principal.workspace_id, campaign_id)


@router.get("/{campaign_id}/stats", summary="Per-variant sends, outcomes and conversion rate")
def get_campaign_stats(campaign_id: str, principal: MarketerPrincipal, db: DbSession) -> CampaignStats:
    campaign_out(db, principal.workspace_id, campaign_id)  # 404 for another workspace's campaign
    return campaign_stats(db, campaign_id)


_STATE: dict[int | str, dict[str, Any]] = {
    409: {"description": "The campaign is in a state that does not allow this (`campaign_state`)."}
}


@router.post(
    "/{campaign_id}/pause",
    summary="Pause: no new customers are leased; the ones being drafted finish",
    responses=_STATE,
)
def post_pause(campaign_id: str, principal: MarketerPrincipal, db: DbSession) -> CampaignOut:
    pause_campaign(db, principal.workspace_id, campaign_id)
    return campaign_out(db, principal.workspace_id, campaign_id)


@router.post("/{campaign_id}/resume", summary="Resume a paused campaign", responses=_STATE)
def post_resume(campaign_id: str, principal: MarketerPrincipal, db: DbSession, services: AppServices) -> CampaignOut:
    if resume_campaign(db, principal.workspace_id, campaign_id):
        submit_after_commit(db, services, "campaign.run", {"campaign_id": campaign_id})
    return campaign_out(db, principal.workspace_id, campaign_id)


@router.post(
    "/{campaign_id}/cancel",
    summary="Cancel: unstarted targets become `cancelled`; drafts already made stay",
    responses=_STATE,
)
def post_cancel(campaign_id: str, principal: MarketerPrincipal, db: DbSession) -> CampaignOut:
    cancel_campaign(db, principal.workspace_id, campaign_id)
    return campaign_out(db, principal.workspace_id, campaign_id)


@router.post(
    "/{campaign_id}/retry-failed",
    summary="Put the failed targets back in the queue and run them again",
    responses=_STATE,
)
def post_retry_failed(
    campaign_id: str, principal: MarketerPrincipal, db: DbSession, services: AppServices
) -> CampaignOut:
    if retry_failed(db, principal.workspace_id, campaign_id):
        submit_after_commit(db, services, "campaign.run", {"campaign_id": campaign_id})
    return campaign_out(db, principal.workspace_id, campaign_id)


@router.get("", summary="Campaigns, newest first, by status or name (progress is on each campaign's own page)")
def get_campaigns(
    principal: MarketerPrincipal,
    db: DbSession,
    status: CampaignStatus | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Part of the name.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> CampaignPage:
    return list_campaigns(db, principal.workspace_id, status=status, q=q, limit=limit, cursor=cursor)
