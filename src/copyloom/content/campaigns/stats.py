"""Per-variant results of a campaign: sends from contact history, outcomes from the outcome log."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from copyloom.content.campaigns.schemas import CampaignStats, VariantStats
from copyloom.contracts.enums import Channel
from copyloom.models import ContactRecord, Draft, Outcome

_CACHE: dict[tuple[str, str], tuple[float, dict[int, tuple[int, int]]]] = {}
_CACHE_LOCK = threading.Lock()
CACHE_TTL_S = 5.0


def cached_variant_stats(db: Session | Connection, campaign_id: str, channel: str) -> dict[int, tuple[int, int]]:
    """``variant_stats`` at most a few seconds old: Thompson sampling needs trends, not the last send, and the
    decision hot path cannot afford two aggregate queries per call."""
    key = (campaign_id, channel)
    now = time.monotonic()
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None and now - hit[0] < CACHE_TTL_S:
            return hit[1]
    value = variant_stats(db, campaign_id, channel)
    with _CACHE_LOCK:
        _CACHE[key] = (now, value)
    return value


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
            .where(*arm, ContactRecord.kind == "sent")
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


def campaign_stats(session: Session, campaign_id: str) -> CampaignStats:
    """Per channel, each personalized variant and the control arm: drafts, sends, outcomes, conversion rate.

    A control's conversions count the control's own sends (one copy goes to many customers)."""
    drafts = session.execute(
        select(Draft.channel, Draft.is_control, Draft.variant_index, func.count())
        .where(Draft.campaign_id == campaign_id)
        .group_by(Draft.channel, Draft.is_control, Draft.variant_index)
    ).all()
    outcomes = session.execute(
        select(Draft.channel, Draft.is_control, Draft.variant_index, Outcome.event, func.count())
        .join(Outcome, Outcome.draft_id == Draft.id)
        .where(Draft.campaign_id == campaign_id)
        .group_by(Draft.channel, Draft.is_control, Draft.variant_index, Outcome.event)
    ).all()
    by_key: dict[tuple[str, bool, int], dict[str, int]] = {}
    for channel, control, index, event, n in outcomes:
        by_key.setdefault((channel, bool(control), index), {})[event] = int(n)
    arms = {(c, bool(k)) for c, k, _, _ in drafts}
    per_arm = {(c, k): variant_stats(session, campaign_id, c, control=k) for c, k in arms}
    out = []
    for channel, control, index, n in sorted(drafts, key=lambda r: (r[0], bool(r[1]), r[2])):
        key = (channel, bool(control), index)
        sends = per_arm[(channel, bool(control))].get(index, (0, 0))[0]
        events = by_key.get(key, {})
        # Outcomes per send: a control is one draft with many sends, so its "converted" counts outcomes.
        rate = events.get("converted", 0) / sends if sends else 0.0
        out.append(
            VariantStats(
                channel=Channel(channel),
                variant_index=index,
                control=bool(control),
                drafts=int(n),
                sent=sends,
                outcomes=events,
                conversion_rate=round(rate, 4),
            )
        )
    return CampaignStats(campaign_id=campaign_id, variants=out)
