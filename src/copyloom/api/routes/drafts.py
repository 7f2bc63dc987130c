"""Drafts for marketers: create for one customer, read, list, refine."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from copyloom.api.deps import AppServices, Content, DbSession, MarketerPrincipal
from copyloom.content.drafts import service as service
from copyloom.content.drafts.schemas import DraftOut, DraftPage, DraftRequest, DraftsResponse, RefineBody
from copyloom.contracts.enums import Channel, DraftStatus

router = APIRouter(prefix="/v1/drafts", tags=["drafts"])


@router.post(
    "",
    status_code=201,
    summary="Drafts for one customer on one or more channels",
    description="Consent gate → facts bundle → generation → guardrails → stored drafts. Channels the gate "
    "refuses come back in `suppressed[]` with a reason; a model failure on one channel comes back in `errors[]` "
    "without losing the others.",
    responses={
        404: {"description": "unknown customer"},
        429: {"description": "daily model budget exhausted"},
        502: {"description": "model failure"},
        504: {"description": "model timeout"},
    },
)
async def create_drafts(
    body: DraftRequest, principal: MarketerPrincipal, services: AppServices, content: Content
) -> DraftsResponse:
    return await service.create_drafts(
        content, services.session_factory, principal.workspace_id, body, actor=f"key:{principal.key_id}"
    )


@router.get("/{draft_id}", summary="One draft with its guardrail report and provenance")
def get_draft(draft_id: str, principal: MarketerPrincipal, db: DbSession) -> DraftOut:
    return service.get_draft(db, principal.workspace_id, draft_id)


@router.get("", summary="Drafts, newest first, filtered and paginated")
def list_drafts(
    principal: MarketerPrincipal,
    db: DbSession,
    customer_id: Annotated[str | None, Query(max_length=128)] = None,
    status: DraftStatus | None = None,
    channel: Channel | None = None,
    campaign_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> DraftPage:
    return service.list_drafts(
        db,
        principal.workspace_id,
        customer_id=customer_id,
        status=status,
        channel=channel.value if channel else None,
        campaign_id=campaign_id,
        limit=limit,
        cursor=cursor,
    )


@router.post("/{draft_id}/refine", status_code=201, summary="A new draft derived from this one")
async def refine_draft(
    draft_id: str, body: RefineBody, principal: MarketerPrincipal, services: AppServices, content: Content
) -> DraftOut:
    return await service.refine_draft(
        content, services.session_factory, principal.workspace_id, draft_id, body, actor=f"key:{principal.key_id}"
    )
