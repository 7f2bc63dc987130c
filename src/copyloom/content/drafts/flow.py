"""One customer, several channels: consent gate → facts bundle → generate → guardrails (one repair) → persist.

Database work runs in worker threads (SQLAlchemy sessions are synchronous); model calls run concurrently per
channel on the event loop. Everything a request writes is written in one transaction at the end, so a failure
leaves nothing half-done, and a model failure on one channel does not lose the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

import anyio
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content import metrics
from copyloom.content.drafts.judging import judge_drafts
from copyloom.content.drafts.routing import Routing, route
from copyloom.content.drafts.schemas import ChannelErrorOut, DraftRequest, SuppressedOut
from copyloom.content.engine import ContentEngine
from copyloom.contracts.brand import BrandPolicies, ReviewPolicy
from copyloom.contracts.enums import Channel, DraftEventKind, DraftStatus, Purpose
from copyloom.contracts.facts import FactsBundle
from copyloom.contracts.variants import Variant
from copyloom.db import read, write
from copyloom.domain.customers import customers_by_external_id, unknown_customer
from copyloom.domain.drafts import NewDrafts, draft_event_row, new_drafts
from copyloom.errors import CopyloomError, InvalidInput, ModelError, ModelTimeout
from copyloom.genai.budget import check_budget, record_usage
from copyloom.genai.types import GenerationRequest, GenerationResult
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.gate import GateDecision, GateInput, evaluate_gate
from copyloom.guardrails.gate_loader import load_gate_inputs
from copyloom.guardrails.pipeline import repair_feedback, run_checks
from copyloom.guardrails.types import GuardrailReport
from copyloom.models import Draft, new_id
from copyloom.retrieval.bundle import build_bundles, prefetch

T = TypeVar("T")
log = logging.getLogger("copyloom.content")


@dataclass(frozen=True)
class ChannelPlan:
    channel: Channel
    bundle: FactsBundle
    ctx: CheckContext
    template_only: bool


@dataclass(frozen=True)
class Prepared:
    customer_pk: int
    customer_external_id: str
    plans: list[ChannelPlan]
    suppressed: list[SuppressedOut]
    review_policy: ReviewPolicy


@dataclass(frozen=True)
class Generated:
    plan: ChannelPlan
    result: GenerationResult
    reports: list[GuardrailReport]


@dataclass(frozen=True)
class Failed:
    channel: Channel
    error: CopyloomError


def prepare(
    session: Session,
    engine: ContentEngine,
    workspace_id: str,
    req: DraftRequest,
    now: datetime,
    *,
    realtime: bool = False,
) -> Prepared:
    """Gate every channel, and build a facts bundle and check context for the ones that may proceed (a batch of
    one of ``prepare_many``: its error is raised)."""
    prepared = prepare_many(session, engine, workspace_id, [req], now, realtime=realtime)[0]
    if isinstance(prepared, CopyloomError):
        raise prepared
    return prepared


def prepare_many(
    session: Session,
    engine: ContentEngine,
    workspace_id: str,
    reqs: Sequence[DraftRequest],
    now: datetime,
    *,
    realtime: bool = False,
) -> list[Prepared | CopyloomError]:
    """``prepare`` for many customers of one workspace (a campaign worker's leased chunk), in request order. The
    customers' rows, their gate snapshots and their bundles' SQL reads (offers, knowledge, personal data) are
    loaded once for all of them: a few queries per chunk instead of a dozen per customer. An unknown customer, or
    one the budget refuses, is its own error; the others proceed."""
    brand = engine.brand(session, workspace_id)  # the cached brand kit: not read per customer
    policies = brand.policies
    lookups = engine.lookups(session, workspace_id)
    customers = customers_by_external_id(session, workspace_id, [r.customer_id for r in reqs])
    gate_inputs = load_gate_inputs(session, list({c.id: c for c in customers.values()}.values()), now, policies)
    gated: list[tuple[list[SuppressedOut], dict[Channel, GateDecision]] | None] = []
    for req in reqs:
        customer = customers.get(req.customer_id)
        gated.append(None if customer is None else _gate(gate_inputs[customer.id], req, now, realtime))
    personal = {
        customers[req.customer_id].id: customers[req.customer_id]
        for req, g in zip(reqs, gated, strict=True)
        if g is not None and any(d.personalization_allowed for d in g[1].values())
    }
    any_allowed = any(g and g[1] for g in gated)
    prefetched = prefetch(session, workspace_id, list(personal.values())) if any_allowed else None
    refused = _budget_refusal(session, engine, workspace_id, now, policies) if any_allowed else None
    out: list[Prepared | CopyloomError] = []
    for req, g in zip(reqs, gated, strict=True):
        if g is None:
            out.append(unknown_customer(req.customer_id))
            continue
        customer, (suppressed, allowed) = customers[req.customer_id], g
        bundles = (
            build_bundles(
                session,
                engine.store,
                engine.embedder,
                workspace_id=workspace_id,
                customer_external_id=req.customer_id,
                brief=req.brief,
                channels=[c.value for c in allowed],
                locale=req.locale,
                token_counter=engine.token_counter,
                now=now,
                personalization={c.value: d.personalization_allowed for c, d in allowed.items()},
                customer=customer,
                brand=brand,
                prefetched=prefetched,
            )
            if allowed
            else {}
        )
        plans: list[ChannelPlan] = []
        for channel, decision in allowed.items():
            bundle = bundles[channel.value]
            ctx = CheckContext(
                bundle=bundle,
                channel=channel,
                # Inside quiet hours the gate allows the draft but moves the send: claims are checked for that time.
                send_at=decision.send_after or req.send_at or now,
                brief=req.brief,
                customer_index=lookups.index,
                recipient_pk=customer.id,
                catalogue=lookups.catalogue,
                brand_domains=lookups.domains,
                whatsapp_template_only=decision.whatsapp_template_only,
            )
            plans.append(ChannelPlan(channel, bundle, ctx, decision.whatsapp_template_only))
        if plans and refused is not None:
            out.append(refused)
            continue
        out.append(Prepared(customer.id, customer.external_id, plans, suppressed, policies.review))
    return out


def _budget_refusal(
    session: Session, engine: ContentEngine, workspace_id: str, now: datetime, policies: BrandPolicies
) -> CopyloomError | None:
    """The workspace's model budget, read once for a batch (the ledger's sum is the same for every customer of it):
    the 429 each customer with a model call gets before any call, or None."""
    if engine.generator.kind != "llm":
        return None
    try:
        check_budget(session, workspace_id, engine.settings, now, policies=policies)
    except CopyloomError as exc:
        return exc
    return None


def _gate(
    gate_input: GateInput, req: DraftRequest, now: datetime, realtime: bool
) -> tuple[list[SuppressedOut], dict[Channel, GateDecision]]:
    """The gate's answer for every channel of ``req``: the suppressed ones, and the decisions of the others."""
    suppressed: list[SuppressedOut] = []
    allowed: dict[Channel, GateDecision] = {}
    for channel in req.channels:
        decision = evaluate_gate(
            gate_input, channel=channel, purpose=Purpose.MARKETING, now=now, send_at=req.send_at, realtime=realtime
        )
        if decision.allowed:
            allowed[channel] = decision
            continue
        metrics.SUPPRESSIONS.labels(str(decision.reason_code)).inc()
        suppressed.append(
            SuppressedOut(
                channel=channel,
                reason_code=str(decision.reason_code),
                message=decision.message,
                send_after=decision.send_after,
            )
        )
    return suppressed, allowed


def _check_all(result: GenerationResult, plan: ChannelPlan) -> list[GuardrailReport]:
    return [run_checks(variant, plan.ctx) for variant in result.variants]


async def generate_channel(engine: ContentEngine, plan: ChannelPlan, req: DraftRequest) -> Generated | Failed:
    """Generate, check, and re-ask once with the checks' messages when a block is repairable."""
    request = GenerationRequest(
        bundle=plan.bundle,
        brief=req.brief,
        channel=plan.channel,
        n_variants=req.variants,
        whatsapp_template_only=plan.template_only,
    )
    try:
        result = await engine.generator.generate(request)
        reports = _check_all(result, plan)
        feedback = sorted({msg for report in reports for msg in repair_feedback(report)})
        if feedback:
            retry = await engine.generator.generate(request.model_copy(update={"feedback": feedback}))
            result = retry.model_copy(
                update={
                    "usage": result.usage + retry.usage,
                    "attempts": result.attempts + retry.attempts,
                    "latency_ms": result.latency_ms + retry.latency_ms,
                }
            )
            reports = _check_all(result, plan)
    except (ModelError, ModelTimeout) as exc:
        metrics.MODEL_ERRORS.labels(exc.code).inc()
        return Failed(plan.channel, exc)
    except InvalidInput as exc:  # the generator refuses the brief (offline: an invitation without an event): 422
        return Failed(plan.channel, exc)
    except Exception as exc:  # whatever a model answer breaks must not cost the other channels (or be a 500)
        log.exception("content.generate_channel.unexpected", extra={"channel": plan.channel.value})
        metrics.MODEL_ERRORS.labels("model_error").inc()
        return Failed(plan.channel, ModelError(f"generation failed: {type(exc).__name__}", code="model_error"))
    # The semantic support check, after the rule-based checks and any re-ask (see content/judging.py).
    result, reports = await judge_drafts(engine.settings, plan.ctx, result, reports)
    metrics.MODEL_LATENCY.labels(result.generator.kind).observe(result.latency_ms / 1000)
    metrics.TOKENS.labels("prompt").inc(result.usage.prompt_tokens)
    metrics.TOKENS.labels("completion").inc(result.usage.completion_tokens)
    metrics.COST.inc(float(result.usage.cost_usd))
    return Generated(plan, result, reports)


def persist_generated(
    session: Session,
    workspace_id: str,
    prepared: Prepared,
    outcomes: list[Generated],
    req: DraftRequest,
    *,
    request_id: str,
    actor: str,
    campaign_id: str | None = None,
    campaign_mode: Literal["all", "sample"] | None = None,
    rng: random.Random | None = None,
    batch: NewDrafts | None = None,
) -> list[Draft]:
    """Store every variant with its provenance and audit trail, written before it returns (a flush, never a
    commit); a caller that stores many customers passes its ``batch`` instead and writes them all at once."""
    with new_drafts(session) if batch is None else nullcontext(batch) as writes:
        policy = prepared.review_policy
        drafts: list[Draft] = []
        brief = req.brief.model_dump(mode="json")
        shared: dict[int, tuple[object, Any]] = {}
        for outcome in outcomes:
            result, plan = outcome.result, outcome.plan
            bundle = _bundle_json(plan.bundle, shared)  # the facts every variant of this channel was written from
            n = len(result.variants)
            usage = result.usage.model_dump(mode="json") | {"attempts": result.attempts, "shared_by_variants": n}
            for index, (variant, report) in enumerate(zip(result.variants, outcome.reports, strict=True)):
                routing = route(
                    report, policy, generator_kind=result.generator.kind, campaign_mode=campaign_mode, rng=rng
                )
                draft = add_draft(
                    writes,
                    variant=variant,
                    report=report,
                    routing=routing,
                    actor=actor,
                    workspace_id=workspace_id,
                    customer_id=prepared.customer_pk,
                    campaign_id=campaign_id,
                    request_id=request_id,
                    channel=plan.channel.value,
                    locale=plan.bundle.locale,
                    variant_index=index,
                    goal=req.brief.goal.value,
                    brief=brief,
                    bundle=bundle,
                    generator=draft_generator(result, variant),
                    usage=usage,
                    latency_ms=result.latency_ms,
                    send_at=req.send_at,
                )
                metrics.DRAFTS.labels(draft.channel, draft.verdict).inc()
                for r in report.results:
                    if r.verdict.value != "pass":
                        metrics.GUARDRAIL_RESULTS.labels(r.check, r.verdict.value).inc()
                drafts.append(draft)
            record_usage(session, workspace_id, result, operation="generate", channel=plan.channel.value, flush=False)
        return drafts


def _bundle_json(bundle: FactsBundle, shared: dict[int, tuple[object, Any]]) -> dict[str, Any]:
    """``bundle.model_dump(mode="json")``, its heavy parts (the facts, the brand kit) serialized once for the
    channels of a customer that share them (``build_bundles`` copies one bundle per channel; ``shared`` holds
    what was serialized, by the identity of the object, which it keeps alive)."""

    def once(value: object, dump: Callable[[], Any]) -> Any:
        seen = shared.get(id(value))
        if seen is None or seen[0] is not value:
            seen = shared[id(value)] = (value, dump())
        return seen[1]

    out = bundle.model_dump(mode="json", exclude={"facts", "brand"})
    out["facts"] = once(bundle.facts, lambda: [f.model_dump(mode="json") for f in bundle.facts])
    out["brand"] = once(bundle.brand, lambda: bundle.brand.model_dump(mode="json"))
    return {key: out[key] for key in FactsBundle.model_fields}  # the fields' order, as model_dump gives


def draft_generator(result: GenerationResult, variant: Variant) -> dict[str, Any]:
    """The provenance stored as a draft's ``generator``: the call's, plus this variant's own notes (e.g. why the
    offline generator paired two products)."""
    info = result.generator.model_dump(mode="json")
    return info | {"notes": [*info.get("notes", []), *variant.notes]}


def add_draft(
    batch: NewDrafts,
    *,
    variant: Variant,
    report: GuardrailReport,
    routing: Routing,
    actor: str,
    created: tuple[str, dict[str, Any]] | None = None,
    **columns: Any,
) -> Draft:
    """The one way a draft row is built: its copy and citations from ``variant``, its verdict from ``report``, its
    status and queue place from ``routing``, plus its audit trail (``created``, by default "generated"; checked; routed). ``columns`` are
    where it came from (workspace, customer, campaign, channel, provenance). Adds to ``batch``, which writes it."""
    draft = Draft(
        id=new_id(),
        angle=variant.angle,
        content=variant.content.model_dump(mode="json"),
        cited_fact_ids=list(variant.fact_ids),
        status=routing.status,
        verdict=report.verdict.value,
        guardrail_report=report.model_dump(mode="json"),
        review_reason=routing.reason,
        review_priority=routing.priority,
        **columns,
    )
    return batch.add(draft, new_draft_audit(draft, actor, report, routing.status, routing.reason, created=created))


def new_draft_audit(
    draft: Draft,
    actor: str,
    report: GuardrailReport,
    status: str,
    reason: str | None,
    *,
    created: tuple[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """The audit trail's first entries for a new draft: generated (or ``created``), checked, and queued /
    approved / blocked."""
    ws = draft.workspace_id
    kind, data = created or (DraftEventKind.GENERATED, {"generator": draft.generator, "angle": draft.angle})
    routed = {DraftStatus.APPROVED: DraftEventKind.AUTO_APPROVED, DraftStatus.BLOCKED: DraftEventKind.BLOCKED}.get(
        DraftStatus(status), DraftEventKind.QUEUED
    )
    checks = {"verdict": report.verdict.value, "checks": {r.check: r.verdict.value for r in report.results}}
    return [
        draft_event_row(workspace_id=ws, draft_id=draft.id, kind=kind, actor=actor, data=data),
        draft_event_row(workspace_id=ws, draft_id=draft.id, kind=DraftEventKind.CHECKED, actor="system", data=checks),
        draft_event_row(workspace_id=ws, draft_id=draft.id, kind=routed, actor="system", data={"reason": reason}),
    ]


def channel_errors(outcomes: list[Generated | Failed]) -> list[ChannelErrorOut]:
    return [
        ChannelErrorOut(channel=o.channel, status=o.error.status, code=o.error.code, message=o.error.message)
        for o in outcomes
        if isinstance(o, Failed)
    ]


async def run_in_session(factory: sessionmaker[Session], fn: Callable[[Session], T]) -> T:
    """Run ``fn(session)`` in a worker thread inside one transaction."""

    def _work() -> T:
        with write(factory) as session:
            return fn(session)

    return await anyio.to_thread.run_sync(_work)


async def run_read(factory: sessionmaker[Session], fn: Callable[[Session], T]) -> T:
    """Run ``fn(session)`` in a worker thread in a read-only transaction (no write lock taken on SQLite)."""

    def _work() -> T:
        with read(factory) as session:
            return fn(session)

    return await anyio.to_thread.run_sync(_work)


async def generate_all(engine: ContentEngine, prepared: Prepared, req: DraftRequest) -> list[Generated | Failed]:
    return list(await asyncio.gather(*(generate_channel(engine, plan, req) for plan in prepared.plans)))
