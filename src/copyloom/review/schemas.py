"""The contract of the review services: what reviewers send and what the queue, history and report return."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from copyloom.contracts.enums import Channel, DraftStatus

QueueStatus = Literal["pending", "approved", "rejected", "blocked"]
# The queue speaks of "pending"; the drafts table stores "pending_review".
STATUS_COLUMN: dict[str, DraftStatus] = {
    "pending": DraftStatus.PENDING_REVIEW,
    "approved": DraftStatus.APPROVED,
    "rejected": DraftStatus.REJECTED,
    "blocked": DraftStatus.BLOCKED,
}


class RejectReason(StrEnum):
    OFF_BRAND = "off_brand"
    INACCURATE = "inaccurate"
    IRRELEVANT = "irrelevant"
    NON_COMPLIANT = "non_compliant"
    OTHER = "other"


class ApproveBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"acknowledged_flags": ["tone"], "comment": "fine"}]}
    )

    comment: str | None = Field(default=None, max_length=2000)
    acknowledged_flags: list[str] = Field(
        default_factory=list, max_length=20, description="Names of the flagged checks the reviewer has read."
    )
    expected_version: int | None = Field(
        default=None, ge=1, description="The draft version the reviewer saw; a newer one answers 409."
    )


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason_code": "off_brand"}]})

    reason_code: RejectReason
    comment: str | None = Field(default=None, max_length=2000)
    expected_version: int | None = Field(default=None, ge=1)


class EditBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"content": {"channel": "sms", "text": "Northwind: ... Reply STOP to opt out"}}]
        },
    )

    content: dict[str, Any] = Field(description="The whole edited content, in the draft's channel schema.")
    comment: str | None = Field(default=None, max_length=2000)
    expected_version: int | None = Field(default=None, ge=1)


class QueueItem(BaseModel):
    id: str
    customer_id: str | None
    campaign_id: str | None
    channel: Channel
    locale: str
    status: str
    verdict: str
    flags: list[str]
    review_reason: str | None
    review_priority: int
    preview: str
    version: int
    created_at: datetime


class QueueCounts(BaseModel):
    """Drafts per status, and pending drafts per channel, under the same campaign/channel filters."""

    pending: int = 0
    approved: int = 0
    rejected: int = 0
    blocked: int = 0
    pending_by_channel: dict[str, int] = Field(default_factory=dict)


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None = None
    counts: QueueCounts


class HistoryEntry(BaseModel):
    id: int
    kind: str
    actor: str = Field(description="Who: 'system' or 'key:<key id>'.")
    actor_name: str = Field(description="Who, in words: the key's label (a person or a system), else its role.")
    at: datetime
    data: dict[str, Any]


class DraftHistory(BaseModel):
    draft_id: str
    events: list[HistoryEntry]


class PhraseCount(BaseModel):
    phrase: str
    count: int
    replacements: list[str] = Field(
        default_factory=list, description="What reviewers wrote instead, most common first."
    )


class ReasonCount(BaseModel):
    reason_code: str
    count: int


class ReviewStats(BaseModel):
    """Reviewer decisions on one slice of drafts."""

    reviewed: int = 0
    approved: int = 0
    rejected: int = 0
    edited: int = 0
    approval_rate: float | None = None
    top_reject_reasons: list[ReasonCount] = Field(default_factory=list)
    top_edited_phrases: list[PhraseCount] = Field(default_factory=list)


class ReviewGroup(ReviewStats):
    prompt: str
    channel: str


class ReviewReport(BaseModel):
    since: datetime | None
    until: datetime | None
    overall: ReviewStats
    groups: list[ReviewGroup]
