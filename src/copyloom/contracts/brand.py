"""The brand kit as data: what ``PUT /v1/brand`` accepts and what prompts and guardrails read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ChannelPolicy(BaseModel):
    """Fatigue rules for one channel (DOMAIN.md defaults; brands override them)."""

    model_config = ConfigDict(extra="forbid")

    min_gap_hours: float = Field(default=24.0, ge=0, le=24 * 30)
    max_per_week: int = Field(default=3, ge=0, le=100)


def _default_channel_policies() -> dict[str, ChannelPolicy]:
    return {
        "email": ChannelPolicy(min_gap_hours=16, max_per_week=4),
        "sms": ChannelPolicy(min_gap_hours=24, max_per_week=2),
        "push": ChannelPolicy(min_gap_hours=24, max_per_week=3),
        "in_app": ChannelPolicy(min_gap_hours=4, max_per_week=10),
        "whatsapp": ChannelPolicy(min_gap_hours=24, max_per_week=2),
        "web": ChannelPolicy(min_gap_hours=0, max_per_week=100),
    }


class QuietHours(BaseModel):
    """Local-time window in which real-time marketing may be sent (47 CFR 64.1200(c)(1): 08:00-21:00)."""

    model_config = ConfigDict(extra="forbid")

    start_hour: int = Field(default=8, ge=0, le=23)
    end_hour: int = Field(default=21, ge=1, le=24)
    # Stricter regional windows, keyed by region code such as "US-FL" or "US-CT".
    regional: dict[str, tuple[int, int]] = Field(
        default_factory=lambda: {
            "US-FL": (8, 20),
            "US-MD": (8, 20),
            "US-MS": (8, 20),
            "US-NJ": (8, 20),
            "US-OK": (8, 20),
            "US-CT": (9, 20),
        }
    )


class ReviewPolicy(BaseModel):
    """Which drafts need a human. Flagged drafts always do; blocked drafts are never sendable."""

    model_config = ConfigDict(extra="forbid")

    auto_approve_passing: bool = Field(
        default=False, description="Approve drafts on which every check passed without a human."
    )
    sample_rate: float = Field(
        default=0.1, ge=0, le=1, description="Share of passing drafts still sent to review for quality."
    )
    risk_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Passing drafts whose risk score reaches this go to review."
    )


class BrandPolicies(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: dict[str, ChannelPolicy] = Field(default_factory=_default_channel_policies)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    sms_max_segments: int = Field(default=2, ge=1, le=10)
    minimum_age: int = Field(default=18, ge=13, le=21)
    review: ReviewPolicy = Field(default_factory=ReviewPolicy)
    # An open complaint or refund within this many days suppresses marketing (sensitive context).
    sensitive_context_days: int = Field(default=30, ge=0, le=365)
    # Per-workspace daily language-model budget; None falls back to the process settings.
    llm_daily_token_budget: int | None = Field(default=None, ge=0)
    llm_daily_cost_budget_usd: float | None = Field(default=None, ge=0)


class BrandKitSpec(BaseModel):
    """A brand's voice, rules and legal identity."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    voice: str = Field(default="", max_length=4000, description="How the brand sounds, in a few sentences.")
    formality: Literal["casual", "neutral", "formal"] = "neutral"
    emoji_policy: Literal["never", "sparingly", "allowed"] = "sparingly"
    max_exclamations: int = Field(default=1, ge=0, le=10)
    banned_phrases: list[str] = Field(default_factory=list, max_length=500)
    competitor_names: list[str] = Field(default_factory=list, max_length=200)
    required_footer: str | None = Field(default=None, max_length=1000)
    sender_identity: str | None = Field(default=None, max_length=300)
    postal_address: str | None = Field(default=None, max_length=500)
    locales: list[str] = Field(default_factory=lambda: ["en"], max_length=50)
    policies: BrandPolicies = Field(default_factory=BrandPolicies)
