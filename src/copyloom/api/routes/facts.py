"""``GET /v1/customers/{customer_id}/facts``: what copyloom would use about a customer, with every source.

Personalization consent decides what is personal in the bundle: the latest personalization record for the
channel, else the latest on any channel; none, or a global suppression, means non-personal facts only (offers open
to everyone, products relevant to the brief, brand knowledge).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from copyloom.api.deps import AppServices, DbSession, require_roles
from copyloom.contracts.enums import Channel, Goal, Role
from copyloom.contracts.facts import FactsBundle
from copyloom.domain.brief import Brief
from copyloom.domain.workspaces import Principal
from copyloom.retrieval.budget import DEFAULT_TOKEN_BUDGET
from copyloom.retrieval.bundle import build_bundle

router = APIRouter(prefix="/v1", tags=["facts"])
Reader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.MARKETER))]


@router.get(
    "/customers/{customer_id}/facts",
    response_model=FactsBundle,
    summary="The facts bundle for one customer and goal, each fact with its source row",
)
def customer_facts(
    customer_id: str,
    principal: Reader,
    session: DbSession,
    services: AppServices,
    goal: Annotated[Goal, Query(description="What the message is for.")],
    channel: Annotated[Channel, Query()] = Channel.EMAIL,
    locale: Annotated[str | None, Query(max_length=16)] = None,
    instructions: Annotated[str | None, Query(max_length=2000)] = None,
    token_budget: Annotated[int, Query(ge=100, le=32000)] = DEFAULT_TOKEN_BUDGET,
) -> FactsBundle:
    engine = services.content_engine()
    brief = Brief(goal=goal, instructions=instructions)
    return build_bundle(
        session,
        engine.store,
        engine.embedder,
        workspace_id=principal.workspace_id,
        customer_external_id=customer_id,
        brief=brief,
        channel=channel.value,
        locale=locale,
        token_budget=token_budget,
        token_counter=engine.token_counter,
    )
