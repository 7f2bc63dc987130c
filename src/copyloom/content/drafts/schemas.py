"""The contract of the content services: what callers send and what they get back (the API reuses these)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from copyloom.contracts.enums import Channel, DraftStatus
from copyloom.domain.brief import Brief
from copyloom.domain.fields import AwareUtcDateTime
from copyloom.genai.types import RefineOperation


def _distinct(value: list[Channel]) -> list[Channel]:
    if len(set(value)) != len(value):
        raise ValueError("channels must not repeat")
    return value


# One to six channels, each once: what a draft request and a campaign ask for.
Channels = Annotated[list[Channel], Field(min_length=1, max_length=6), AfterValidator(_distinct)]


class DraftRequest(BaseModel):
    """Ask for drafts for one customer on one or more channels."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "C1001",
                    "channels": ["email", "sms"],
                    "brief": {"goal": "cross_sell", "instructions": "New rain gear for spring hikes"},
                    "variants": 2,
                }
            ]
        },
    )

    customer_id: str = Field(min_length=1, max_length=128)
    channels: Channels
    brief: Brief
    variants: int = Field(default=2, ge=1, le=5)
    locale: str | None = Field(default=None, max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    send_at: AwareUtcDateTime | None = None


class RefineBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"operation": "shorten"}]})

    operation: RefineOperation
    target_locale: str | None = Field(default=None, max_length=16, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class GeneratorOut(BaseModel):
    kind: Literal["offline", "llm", "control", "human"]
    model: str | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None
    prompt_sha256: str | None = None
    notes: list[str] = Field(default_factory=list)


class DraftOut(BaseModel):
    id: str
    customer_id: str | None
    campaign_id: str | None
    parent_id: str | None
    channel: Channel
    locale: str
    variant_index: int
    angle: str | None
    is_control: bool
    content: dict[str, Any]
    status: DraftStatus
    verdict: Literal["pass", "flag", "block"]
    guardrail_report: dict[str, Any]
    cited_fact_ids: list[str]
    generator: GeneratorOut
    usage: dict[str, Any]
    latency_ms: float
    review_reason: str | None
    send_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SuppressedOut(BaseModel):
    channel: Channel
    reason_code: str
    message: str
    send_after: datetime | None = None


class ChannelErrorOut(BaseModel):
    """A channel that produced no draft because the model failed; the other channels are unaffected."""

    channel: Channel
    status: int = Field(description="The HTTP status this failure alone would have had: 502 or 504.")
    code: str = Field(description="model_invalid_output, model_error, model_http_error, model_timeout, …")
    message: str


class DraftsResponse(BaseModel):
    request_id: str
    drafts: list[DraftOut]
    suppressed: list[SuppressedOut] = Field(default_factory=list)
    errors: list[ChannelErrorOut] = Field(default_factory=list)


class DraftPage(BaseModel):
    items: list[DraftOut]
    next_cursor: str | None = None
