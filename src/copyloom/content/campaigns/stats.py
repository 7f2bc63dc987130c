"""Per-variant results of a campaign: sends from contact history, outcomes from the outcome log."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copyloom.content.campaigns.schemas import CampaignStats, VariantStats
from copyloom.contracts.enums import Channel
from copyloom.domain.campaigns import variant_stats
from copyloom.models import Draft, Outcome


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
