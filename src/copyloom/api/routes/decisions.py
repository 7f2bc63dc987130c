"""Real-time decisions for a journey engine, and outcomes."""

from __future__ import annotations

from fastapi import APIRouter, Response

from copyloom.api.deps import AppServices, Content, DbSession, JourneyPrincipal
from copyloom.content.journey.batch import decide_batch
from copyloom.content.journey.outcomes import record_outcome
from copyloom.content.journey.schemas import (
    DecisionBatch,
    DecisionBatchItem,
    DecisionBatchOut,
    DecisionItemError,
    DecisionOut,
    DecisionRequest,
    OutcomeIn,
    OutcomeOut,
)
from copyloom.content.journey.service import decide
from copyloom.errors import CopyloomError

router = APIRouter(tags=["journey"])


@router.post(
    "/v1/decisions",
    summary="Send what, or suppress with a reason, within the caller's deadline",
    description="Re-runs the consent gate at decision time; serves the customer's approved draft, else one "
    "generated within the deadline (campaigns that auto-approve), else the approved control. The same "
    "`idempotency_key` always gets the same answer and writes one contact record.",
    response_model=DecisionOut,
    responses={404: {"description": "unknown campaign or customer"}, 409: {"description": "key reused"}},
)
async def post_decision(
    body: DecisionRequest, principal: JourneyPrincipal, services: AppServices, content: Content
) -> Response:
    out = await decide(content, services.session_factory, principal.workspace_id, body, rng=services.rng)
    # Serialized once, here: the model is ours and already valid, so FastAPI's re-validation is skipped.
    return Response(out.model_dump_json(), media_type="application/json")


@router.post(
    "/v1/decisions/batch",
    summary="Up to 1,000 decisions; each item answers or fails on its own",
    description="One snapshot read and one write for the whole batch; items that need more (no approved draft, "
    "a repeated key, a second message to one customer) are decided one by one, with the same rules.",
)
async def post_decisions_batch(
    body: DecisionBatch, principal: JourneyPrincipal, services: AppServices, content: Content
) -> DecisionBatchOut:
    answers = await decide_batch(
        content, services.session_factory, principal.workspace_id, body.items, rng=services.rng
    )
    return DecisionBatchOut(
        results=[
            DecisionBatchItem(index=i, error=DecisionItemError(code=a.code, message=a.message))
            if isinstance(a, CopyloomError)
            else DecisionBatchItem(index=i, result=a)
            for i, a in enumerate(answers)
        ]
    )


@router.post("/v1/outcomes", status_code=201, summary="Report what happened to a sent draft")
def post_outcome(body: OutcomeIn, principal: JourneyPrincipal, db: DbSession) -> OutcomeOut:
    return record_outcome(db, principal.workspace_id, body)
