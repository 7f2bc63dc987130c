"""Campaigns as data: the approval policy, the fixed terms a decision reads, and per-variant results.

Read by the campaign workers, the engine (which caches the terms) and journey decisions (which sample variants
by their results), so it sits below all of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from copyloom.contracts.cache import TTLCache
from copyloom.contracts.enums import ContactKind
from copyloom.models import Campaign, ContactRecord, Draft, Outcome


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
