"""Campaign requests and responses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from copyloom.content.drafts.schemas import Channels
from copyloom.contracts.enums import Channel
from copyloom.domain.brief import Brief
from copyloom.domain.campaigns import Approval


class AudienceFilter(BaseModel):
    """Customers matching every given field; attribute values compare by equality (or membership in a list)."""

    model_config = ConfigDict(extra="forbid")

    locale: str | None = Field(default=None, max_length=16)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    attributes: dict[str, Any] = Field(default_factory=dict, max_length=20)


class Audience(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_ids: list[str] | None = Field(default=None, min_length=1, max_length=100_000)
    filter: AudienceFilter | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Audience:
        if (self.customer_ids is None) == (self.filter is None):
            raise ValueError("give exactly one of customer_ids or filter")
        return self


class CampaignCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Spring camping",
                    "brief": {"goal": "offer_announcement", "offer_ids": ["SPRING20"]},
                    "channels": ["email", "push"],
                    "audience": {"filter": {"attributes": {"app_member": True}}},
                    "variants": 2,
                    "control": {"push": {"title": "Spring camping sale", "body": "20% off tents and sleeping bags."}},
                    "approval": {"mode": "sample", "sample_rate": 0.1},
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    brief: Brief
    channels: Channels
    audience: Audience
    variants: int = Field(default=2, ge=1, le=5)
    control: dict[Channel, dict[str, Any]] = Field(
        default_factory=dict, description="Per channel, non-personalized content in that channel's schema."
    )
    approval: Approval = Field(default_factory=Approval)


class CampaignProgress(BaseModel):
    total: int
    pending: int
    done: int
    suppressed: int
    failed: int
    leased: int = Field(0, description="Targets a worker is drafting right now.")
    cancelled: int = 0
    percent: float
    drafts_by_status: dict[str, int]
    suppressed_by_reason: dict[str, int]
    failed_by_reason: dict[str, int] = Field(default_factory=dict)
    targets_per_s: float | None = Field(
        None, description="(customer, channel) targets finished per second over the last minute."
    )
    eta_s: float | None = Field(None, description="Seconds until the unfinished targets are done at that rate.")
    model_calls: int = Field(0, description="Model requests so far (re-asks included).")
    tokens: int = 0
    cost_usd: Decimal = Decimal("0")
    started_at: datetime | None = None
    finished_at: datetime | None = None


class CampaignOut(BaseModel):
    id: str
    name: str
    status: Literal["queued", "running", "paused", "cancelled", "completed", "failed"]
    channels: list[Channel]
    variants: int
    approval: Approval
    brief: Brief
    control_draft_ids: dict[str, str]
    progress: CampaignProgress
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class VariantStats(BaseModel):
    channel: Channel
    variant_index: int
    control: bool = Field(default=False, description="The campaign's control arm (one copy for everyone).")
    drafts: int
    sent: int
    outcomes: dict[str, int]
    conversion_rate: float


class CampaignStats(BaseModel):
    campaign_id: str
    variants: list[VariantStats]
