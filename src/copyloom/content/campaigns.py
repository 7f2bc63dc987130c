"""Campaigns: one brief, an audience, generated per (customer, channel) in the background.

Each target is finished in one transaction that stores its drafts and marks it done (compare-and-set on its
status), so a campaign killed at any moment resumes where it stopped: no finished draft lost, none duplicated.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import threading
import time
from collections import Counter
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content.campaign_schemas import Approval, CampaignCreate, CampaignOut, CampaignProgress
from copyloom.content.control import control_bundle
from copyloom.content.engine import ContentEngine
from copyloom.content.pipeline import Generated, audit_new_draft, generate_all, persist_generated, prepare
from copyloom.content.schemas import DraftRequest
from copyloom.content.tasks import TaskContext, TaskRunner, task
from copyloom.db import read_scope, session_scope
from copyloom.domain.brief import Brief
from copyloom.domain.enums import Channel
from copyloom.errors import InvalidInput, NotFound
from copyloom.genai.schemas import CONTENT_MODELS, Variant
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.pipeline import run_checks
from copyloom.models import Campaign, CampaignTarget, Customer, Draft, new_id, utcnow
from copyloom.review.routing import route

log = logging.getLogger("copyloom.campaigns")
FINISHED = ("done", "suppressed", "failed")


def _audience(session: Session, workspace_id: str, body: CampaignCreate) -> list[int]:
    aud = body.audience
    if aud.customer_ids is not None:
        wanted = list(dict.fromkeys(aud.customer_ids))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            rows = session.execute(
                select(Customer.external_id, Customer.id).where(
                    Customer.workspace_id == workspace_id, Customer.external_id.in_(chunk)
                )
            )
            found.update(dict(rows.tuples().all()))
        missing = [c for c in wanted if c not in found]
        if missing:
            raise InvalidInput(
                f"unknown customers: {', '.join(missing[:20])}" + (" …" if len(missing) > 20 else ""),
                code="unknown_customers",
                field="audience.customer_ids",
            )
        return [found[c] for c in wanted]
    assert aud.filter is not None
    query = select(Customer.id, Customer.attributes).where(Customer.workspace_id == workspace_id)
    if aud.filter.locale:
        query = query.where(Customer.locale == aud.filter.locale)
    if aud.filter.country:
        query = query.where(Customer.country == aud.filter.country.upper())
    wanted_attrs = aud.filter.attributes
    out = []
    for pk, attrs in session.execute(query.order_by(Customer.id)):
        attrs = attrs or {}
        if all(
            attrs.get(k) == v or (isinstance(attrs.get(k), list) and v in attrs[k]) for k, v in wanted_attrs.items()
        ):
            out.append(pk)
    return out


def _control_drafts(
    session: Session, engine: ContentEngine, campaign: Campaign, body: CampaignCreate, now: datetime
) -> dict[str, str]:
    """Check each channel's control like any draft and queue it for review (a control is never auto-approved)."""
    ids: dict[str, str] = {}
    brand = engine.brand(session, campaign.workspace_id)
    locale = (brand.locales or ["en"])[0]
    lookups = engine.lookups(session, campaign.workspace_id)
    for channel, raw in body.control.items():
        if channel not in body.channels:
            raise InvalidInput(f"control for {channel} but the campaign does not use it", field=f"control.{channel}")
        try:
            content = CONTENT_MODELS[channel].model_validate({**raw, "channel": channel.value})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidInput(
                f"control.{channel}.{where}: {first['msg']}", field=f"control.{channel}.{where}"
            ) from exc
        text = " ".join(content.text_fields().values())
        bundle = control_bundle(session, campaign.workspace_id, brand, body.brief, channel.value, locale, text, now)
        variant = Variant(angle="control", fact_ids=[f.id for f in bundle.facts], content=content.model_dump())
        ctx = CheckContext(
            bundle=bundle,
            channel=channel.value,
            send_at=now,
            brief=body.brief,
            customer_index=lookups.index,
            catalogue=lookups.catalogue,
            brand_domains=lookups.domains,
        )
        report = run_checks(variant, ctx)
        routing = route(report, brand.policies.review, generator_kind="control", campaign_mode="all")
        draft = Draft(
            id=new_id(),
            workspace_id=campaign.workspace_id,
            customer_id=None,
            campaign_id=campaign.id,
            request_id=campaign.id,
            channel=channel.value,
            locale=locale,
            variant_index=0,
            angle="control",
            goal=body.brief.goal.value,
            brief=body.brief.model_dump(mode="json"),
            is_control=True,
            content=content.model_dump(mode="json"),
            status=routing.status,
            verdict=report.verdict.value,
            guardrail_report=report.model_dump(mode="json"),
            cited_fact_ids=variant.fact_ids,
            bundle=bundle.model_dump(mode="json"),
            generator={"kind": "control", "model": None},
            usage={},
            review_reason=routing.reason,
            review_priority=routing.priority,
        )
        session.add(draft)
        session.flush()
        audit_new_draft(session, draft, "system", report, routing.status, routing.reason)
        ids[channel.value] = draft.id
    return ids


def create_campaign(
    session: Session, engine: ContentEngine, workspace_id: str, body: CampaignCreate, now: datetime | None = None
) -> Campaign:
    """Store the campaign, its targets and its control drafts (one transaction, owned by the caller)."""
    now = now or utcnow()
    customers = _audience(session, workspace_id, body)
    if not customers:
        raise InvalidInput("the audience matches no customer", code="empty_audience", field="audience")
    campaign = Campaign(
        id=new_id(),
        workspace_id=workspace_id,
        name=body.name,
        brief=body.brief.model_dump(mode="json"),
        channels=[c.value for c in body.channels],
        audience=body.audience.model_dump(mode="json"),
        variants=body.variants,
        approval=body.approval.model_dump(mode="json"),
        status="queued",
    )
    session.add(campaign)
    session.flush()
    campaign.control = _control_drafts(session, engine, campaign, body, now)
    rows = [
        {"campaign_id": campaign.id, "customer_id": pk, "channel": ch.value, "status": "pending"}
        for pk in customers
        for ch in body.channels
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert(CampaignTarget), rows[start : start + 1000])
    return campaign


def _target_request(session: Session, campaign: Campaign, target: CampaignTarget) -> DraftRequest:
    external = session.scalar(select(Customer.external_id).where(Customer.id == target.customer_id))
    return DraftRequest(
        customer_id=str(external),
        channels=[Channel(target.channel)],
        brief=Brief.model_validate(campaign.brief),
        variants=campaign.variants,
    )


def _claim(
    session: Session, target_id: int, status: str, reason: str | None = None, message: str | None = None
) -> bool:
    """Compare-and-set a pending target to a final status; False if another worker finished it first."""
    result = session.execute(
        update(CampaignTarget)
        .where(CampaignTarget.id == target_id, CampaignTarget.status == "pending")
        .values(status=status, reason_code=reason, message=message, updated_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def process_target(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    campaign: Campaign,
    target: CampaignTarget,
    rng: random.Random | None = None,
) -> str:
    now = utcnow()
    approval = Approval.model_validate(campaign.approval)
    with read_scope(factory) as session:  # gate and bundle only read: no write lock while the bundle is built
        req = _target_request(session, campaign, target)
        prepared = prepare(session, engine, campaign.workspace_id, req, now)
    if prepared.suppressed:
        s = prepared.suppressed[0]
        with session_scope(factory) as session:
            _claim(session, target.id, "suppressed", s.reason_code, s.message)
        return "suppressed"
    outcomes = asyncio.run(generate_all(engine, prepared, req))
    generated = [o for o in outcomes if isinstance(o, Generated)]
    with session_scope(factory) as session:
        if not generated:
            error = outcomes[0].error if outcomes and not isinstance(outcomes[0], Generated) else None
            _claim(session, target.id, "failed", getattr(error, "code", "no_output"), getattr(error, "message", None))
            return "failed"
        if not _claim(session, target.id, "done"):
            session.rollback()
            return "skipped"
        policy = prepared.review_policy.model_copy(update={"sample_rate": approval.sample_rate})
        persist_generated(
            session,
            campaign.workspace_id,
            dataclasses.replace(prepared, review_policy=policy),
            generated,
            req,
            request_id=campaign.id,
            actor="system",
            campaign_id=campaign.id,
            campaign_mode=approval.mode,
            rng=rng,
        )
    return "done"


def run_campaign(
    engine: ContentEngine,
    factory: sessionmaker[Session],
    campaign_id: str,
    *,
    stop: threading.Event | None = None,
    rng: random.Random | None = None,
) -> None:
    """Work through the campaign's pending targets; safe to call again after a crash or on a second worker."""
    rate = engine.settings.campaign_max_targets_per_s
    with session_scope(factory) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id!r}", code="campaign_not_found")
        campaign.status = "running"
    try:
        while not (stop and stop.is_set()):
            with session_scope(factory) as session:
                batch = list(
                    session.scalars(
                        select(CampaignTarget)
                        .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "pending")
                        .order_by(CampaignTarget.id)
                        .limit(50)
                    )
                )
            if not batch:
                break
            for target in batch:
                if stop and stop.is_set():
                    return
                started = time.perf_counter()
                process_target(engine, factory, campaign, target, rng)
                if rate:
                    time.sleep(max(0.0, 1.0 / rate - (time.perf_counter() - started)))
        else:
            return
        with session_scope(factory) as session:
            session.execute(update(Campaign).where(Campaign.id == campaign_id).values(status="completed"))
    except Exception as exc:
        with session_scope(factory) as session:
            session.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id)
                .values(status="failed", error=f"{type(exc).__name__}: {exc}"[:500])
            )
        raise


@task("campaign.run")
def _run_campaign_task(ctx: TaskContext, payload: dict[str, object]) -> None:
    run_campaign(ctx.engine, ctx.session_factory, str(payload["campaign_id"]))


def resume_unfinished(session: Session, runner: TaskRunner) -> list[str]:
    """Re-submit every campaign a previous process left queued or running."""
    ids = list(session.scalars(select(Campaign.id).where(Campaign.status.in_(("queued", "running")))))
    for campaign_id in ids:
        runner.submit("campaign.run", {"campaign_id": campaign_id})
    return ids


def campaign_out(session: Session, workspace_id: str, campaign_id: str) -> CampaignOut:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.workspace_id != workspace_id:
        raise NotFound(f"no campaign {campaign_id!r}", code="campaign_not_found", field="campaign_id")
    by_status = dict(
        session.execute(
            select(CampaignTarget.status, func.count())
            .where(CampaignTarget.campaign_id == campaign_id)
            .group_by(CampaignTarget.status)
        )
        .tuples()
        .all()
    )
    reasons = Counter(
        dict(
            session.execute(
                select(CampaignTarget.reason_code, func.count())
                .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "suppressed")
                .group_by(CampaignTarget.reason_code)
            )
            .tuples()
            .all()
        )
    )
    drafts = dict(
        session.execute(
            select(Draft.status, func.count())
            .where(Draft.campaign_id == campaign_id, Draft.is_control.is_(False))
            .group_by(Draft.status)
        )
        .tuples()
        .all()
    )
    total = sum(by_status.values())
    finished = sum(by_status.get(s, 0) for s in FINISHED)
    progress = CampaignProgress(
        total=total,
        pending=by_status.get("pending", 0),
        done=by_status.get("done", 0),
        suppressed=by_status.get("suppressed", 0),
        failed=by_status.get("failed", 0),
        percent=round(100.0 * finished / total, 1) if total else 100.0,
        drafts_by_status={str(k): int(v) for k, v in drafts.items()},
        suppressed_by_reason={str(k): int(v) for k, v in reasons.items()},
    )
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        status=campaign.status,
        channels=[Channel(c) for c in campaign.channels],
        variants=campaign.variants,
        approval=Approval.model_validate(campaign.approval),
        brief=Brief.model_validate(campaign.brief),
        control_draft_ids=campaign.control,
        progress=progress,
        error=campaign.error,
        created_at=campaign.created_at,
        updated_at=campaign.updated_at,
    )
