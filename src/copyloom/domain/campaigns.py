"""Campaigns as data: the approval policy, the fixed terms a decision reads, and per-variant results.

Read by the campaign workers, the engine (which caches the terms) and journey decisions (which sample variants
by their results), so it sits below all of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from copyloom.contracts.cache import TTLCache
from copyloom.contracts.enums import ContactKind
from copyloom.models import Campaign, CampaignTarget, ContactRecord, Customer, Draft, Outcome

UNFINISHED = ("pending", "leased")  # a target's statuses before its final one
ACTIVE = ("queued", "running")  # a campaign's statuses while its targets may be leased


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["all", "sample"] = "all"
    sample_rate: float = Field(default=0.1, ge=0, le=1, description="Share of passing drafts still reviewed.")


@dataclass(frozen=True)
class CampaignTerms:
    """What a decision needs of a campaign. None of it changes once the campaign exists."""

    id: str
    workspace_id: str
    brief: dict[str, Any]
    approval: Approval
    channels: frozenset[str]


_CAMPAIGN = select(Campaign.id, Campaign.workspace_id, Campaign.brief, Campaign.approval, Campaign.channels).where(
    Campaign.id == bindparam("id")
)


def campaigns_by_id(session: Session, workspace_id: str, campaign_ids: Iterable[str]) -> dict[str, Campaign]:
    """The workspace's campaigns among ``campaign_ids``, by id (unknown ones and other workspaces' are absent)."""
    query = select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.id.in_(set(campaign_ids)))
    return {c.id: c for c in session.scalars(query)}


def load_campaign_terms(conn: Connection, campaign_id: str) -> CampaignTerms | None:
    row = conn.execute(_CAMPAIGN, {"id": campaign_id}).first()
    if row is None:
        return None
    return CampaignTerms(
        row.id, row.workspace_id, row.brief, Approval.model_validate(row.approval), frozenset(row.channels)
    )


CACHE_TTL_S = 5.0
_STATS: TTLCache[tuple[str, str], dict[int, tuple[int, int]]] = TTLCache(CACHE_TTL_S)


def cached_variant_stats(db: Session | Connection, campaign_id: str, channel: str) -> dict[int, tuple[int, int]]:
    """``variant_stats`` at most a few seconds old: Thompson sampling needs trends, not the last send, and the
    decision hot path cannot afford two aggregate queries per call."""
    stats = _STATS.get_or_build((campaign_id, channel), lambda: variant_stats(db, campaign_id, channel))
    assert stats is not None  # variant_stats always answers (empty when nothing was sent)
    return stats


def variant_stats(
    db: Session | Connection, campaign_id: str, channel: str, *, control: bool = False
) -> dict[int, tuple[int, int]]:
    """variant index -> (sends, conversions) for one campaign channel: of the personalized variants, or of the
    control arm (which Thompson sampling must not count as variant 0)."""
    arm = (Draft.campaign_id == campaign_id, Draft.channel == channel, Draft.is_control.is_(control))
    sent = dict(
        db.execute(
            select(Draft.variant_index, func.count())
            .join(ContactRecord, ContactRecord.draft_id == Draft.id)
            .where(*arm, ContactRecord.kind == ContactKind.SENT)
            .group_by(Draft.variant_index)
        )
        .tuples()
        .all()
    )
    converted = dict(
        db.execute(
            select(Draft.variant_index, func.count(func.distinct(Outcome.draft_id)))
            .join(Outcome, Outcome.draft_id == Draft.id)
            .where(*arm, Outcome.event == "converted")
            .group_by(Draft.variant_index)
        )
        .tuples()
        .all()
    )
    return {int(i): (int(sent.get(i, 0)), int(converted.get(i, 0))) for i in set(sent) | set(converted)}


def leasable(now: datetime) -> ColumnElement[bool]:
    """A target a worker may lease at ``now``: pending, or leased by a worker whose lease has expired."""
    return or_(
        CampaignTarget.status == "pending",
        and_(CampaignTarget.status == "leased", CampaignTarget.lease_expires_at < now),
    )


def lease_targets(
    session: Session,
    campaign_id: str,
    worker_id: str,
    size: int,
    rows_per_customer: int,
    expires_at: datetime,
    now: datetime,
    *,
    last_try: bool,
) -> list[tuple[int, int, str]] | None:
    """One lease attempt, in the caller's transaction: up to ``size`` whole customers' leasable targets moved to
    ``leased`` for ``worker_id``; the rows (id, customer_id, channel), ``[]`` when there is nothing to lease (or the
    campaign is not queued or running), or None to try again (every customer locked was partial).

    The campaign's status is read in the same transaction, its row share-locked on PostgreSQL (a pause or cancel
    takes it for update): a lease is either committed before the pause, and so visible to whoever waits for leases
    to end, or sees the pause. On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED``; a customer one of
    whose rows another worker has locked, or whose rows the ``LIMIT`` cut, is left out unless ``last_try`` (a
    worker stuck holding its locks): then what is locked is leased, the rest of those customers later."""
    status = session.scalar(select(Campaign.status).where(Campaign.id == campaign_id).with_for_update(read=True))
    if status not in ACTIVE:
        return []
    locked = session.execute(
        select(CampaignTarget.id, CampaignTarget.customer_id)
        .where(CampaignTarget.campaign_id == campaign_id, leasable(now))
        .order_by(CampaignTarget.customer_id, CampaignTarget.id)
        .limit(size * rows_per_customer)
        .with_for_update(skip_locked=True)
    ).all()
    if not locked:
        return []
    mine: dict[int, list[int]] = {}
    for target_id, customer_pk in locked:
        mine.setdefault(customer_pk, []).append(target_id)
    candidates = list(mine)[:size]
    counts = dict(
        session.execute(  # as this transaction sees them: rows another worker holds locked still count
            select(CampaignTarget.customer_id, func.count())
            .where(
                CampaignTarget.campaign_id == campaign_id,
                CampaignTarget.customer_id.in_(candidates),
                leasable(now),
            )
            .group_by(CampaignTarget.customer_id)
        )
        .tuples()
        .all()
    )
    whole = [pk for pk in candidates if len(mine[pk]) == counts.get(pk, 0)]
    if not whole and not last_try:
        return None
    rows = session.execute(
        update(CampaignTarget)
        .where(CampaignTarget.id.in_([t for pk in (whole or candidates) for t in mine[pk]]), leasable(now))
        .values(status="leased", lease_owner=worker_id, lease_expires_at=expires_at, updated_at=now)
        .returning(CampaignTarget.id, CampaignTarget.customer_id, CampaignTarget.channel)
    )
    return list(rows.tuples()) or None


def external_ids(session: Session, customer_pks: Sequence[int]) -> dict[int, str]:
    """Customer row id -> the brand's external id."""
    query = select(Customer.id, Customer.external_id).where(Customer.id.in_(customer_pks))
    return dict(session.execute(query).tuples().all())


# Built once (a worker runs it for every customer it stores): one leased target row to its final status.
_FINISH_TARGET = (
    update(CampaignTarget)
    .where(
        CampaignTarget.id == bindparam("target_id"),
        CampaignTarget.status == "leased",
        CampaignTarget.lease_owner == bindparam("owner"),
    )
    .values(
        status=bindparam("final_status"),
        reason_code=bindparam("reason"),
        message=bindparam("final_message"),
        lease_owner=None,
        lease_expires_at=None,
        finished_at=bindparam("now"),
        model_calls=bindparam("calls"),
        tokens=bindparam("spent_tokens"),
        cost_usd=bindparam("cost"),
    )
)


def finish_targets(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Move leased targets to their final status (one executemany of ``rows``: target_id, owner, final_status,
    reason, final_message, now, calls, spent_tokens, cost), each only while ``owner`` still holds its lease; the
    number moved."""
    return session.connection().execute(_FINISH_TARGET, list(rows)).rowcount
