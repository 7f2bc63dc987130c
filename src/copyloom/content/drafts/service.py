"""Draft services: create for one customer, read, list, refine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from copyloom.content.drafts.flow import (
    Failed,
    Generated,
    add_draft,
    channel_errors,
    draft_generator,
    generate_all,
    persist_generated,
    prepare,
    run_in_session,
    run_read,
)
from copyloom.content.drafts.recheck import stored_check_context, stored_variant
from copyloom.content.drafts.routing import route
from copyloom.content.drafts.schemas import DraftOut, DraftPage, DraftRequest, DraftsResponse, RefineBody
from copyloom.content.drafts.views import draft_out
from copyloom.content.engine import ContentEngine
from copyloom.contracts.enums import DraftEventKind
from copyloom.domain.brief import Brief
from copyloom.domain.customers import find_customer_pk
from copyloom.domain.drafts import customer_external_id, customer_labels, draft_page, load_draft, new_drafts
from copyloom.errors import CopyloomError, InvalidInput
from copyloom.genai.budget import check_budget, record_usage
from copyloom.genai.types import RefineOperation, RefineRequest
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.pipeline import run_checks
from copyloom.models import Draft, new_id, utcnow


async def create_drafts(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    workspace_id: str,
    req: DraftRequest,
    *,
    actor: str,
    now: datetime | None = None,
) -> DraftsResponse:
    now = now or utcnow()
    request_id = new_id()
    # Gate and facts bundle only read: no write lock while the bundle is built (it may call the embedder).
    prepared = await run_read(factory, lambda s: prepare(s, engine, workspace_id, req, now))
    outcomes = await generate_all(engine, prepared, req)
    generated = [o for o in outcomes if isinstance(o, Generated)]
    failures = [o for o in outcomes if isinstance(o, Failed)]
    if failures and not generated and not prepared.suppressed:
        raise failures[0].error  # nothing to return: the whole request failed with the model's error

    def _store(session: Session) -> list[DraftOut]:
        drafts = persist_generated(session, workspace_id, prepared, generated, req, request_id=request_id, actor=actor)
        return [draft_out(d, prepared.customer_external_id) for d in drafts]

    drafts = await run_in_session(factory, _store)
    return DraftsResponse(
        request_id=request_id, drafts=drafts, suppressed=prepared.suppressed, errors=channel_errors(outcomes)
    )


def get_draft(session: Session, workspace_id: str, draft_id: str) -> DraftOut:
    draft = load_draft(session, workspace_id, draft_id)
    return draft_out(draft, customer_external_id(session, draft))


def list_drafts(
    session: Session,
    workspace_id: str,
    *,
    customer_id: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    campaign_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> DraftPage:
    """Newest first, keyset-paginated (stable under concurrent inserts)."""
    customer_pk = None
    if customer_id is not None:
        customer_pk = find_customer_pk(session, workspace_id, customer_id)
        if customer_pk is None:
            return DraftPage(items=[])
    rows, next_cursor = draft_page(
        session,
        workspace_id,
        customer_pk=customer_pk,
        status=status,
        channel=channel,
        campaign_id=campaign_id,
        limit=limit,
        cursor=cursor,
    )
    labels = customer_labels(session, rows)
    items = [draft_out(d, labels[d.customer_id][0] if d.customer_id in labels else None) for d in rows]
    return DraftPage(items=items, next_cursor=next_cursor)


async def refine_draft(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    workspace_id: str,
    draft_id: str,
    body: RefineBody,
    *,
    actor: str,
    now: datetime | None = None,
) -> DraftOut:
    """A new draft derived from ``draft_id`` (shorter, rephrased, another tone or locale), checked like any."""
    now = now or utcnow()
    if body.operation is RefineOperation.TRANSLATE and not body.target_locale:
        raise InvalidInput("translate needs target_locale", code="missing_target_locale", field="target_locale")

    def _load(session: Session) -> tuple[Draft, CheckContext, RefineRequest]:
        parent = load_draft(session, workspace_id, draft_id)
        variant = stored_variant(parent)
        lookups = engine.lookups(session, workspace_id)
        if engine.generator.kind == "llm":
            check_budget(session, workspace_id, engine.settings, now)
        ctx = stored_check_context(parent, lookups, now)
        request = RefineRequest(
            bundle=ctx.bundle,
            brief=ctx.brief or Brief.model_validate(parent.brief),
            parent=variant,
            operation=body.operation,
            target_locale=body.target_locale,
        )
        return parent, ctx, request

    parent, ctx, request = await run_read(factory, _load)
    result = await engine.generator.refine(request)
    if not result.variants:
        raise CopyloomError("the generator returned no variant", code="empty_refinement")
    variant = result.variants[0]
    report = run_checks(variant, ctx)

    def _store(session: Session) -> DraftOut:
        policy = engine.brand(session, workspace_id).policies.review
        routing = route(report, policy, generator_kind=result.generator.kind)
        with new_drafts(session) as batch:
            child = add_draft(
                batch,
                variant=variant,
                report=report,
                routing=routing,
                actor=actor,
                created=(
                    DraftEventKind.REFINED,
                    {"parent_id": parent.id, "operation": body.operation.value, "target_locale": body.target_locale},
                ),
                workspace_id=workspace_id,
                customer_id=parent.customer_id,
                campaign_id=parent.campaign_id,
                parent_id=parent.id,
                request_id=new_id(),
                channel=parent.channel,
                locale=body.target_locale or parent.locale,
                variant_index=parent.variant_index,
                goal=parent.goal,
                brief=parent.brief,
                is_control=parent.is_control,
                bundle=parent.bundle,
                generator=draft_generator(result, variant),
                usage=result.usage.model_dump(mode="json") | {"attempts": result.attempts},
                latency_ms=result.latency_ms,
                send_at=parent.send_at,
            )
        record_usage(session, workspace_id, result, operation="refine", channel=parent.channel, draft_id=child.id)
        return draft_out(child, customer_external_id(session, child))

    return await run_in_session(factory, _store)


__all__ = ["create_drafts", "get_draft", "list_drafts", "refine_draft"]
