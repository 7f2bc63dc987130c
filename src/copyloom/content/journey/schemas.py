"""Journey-engine decisions and outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copyloom.content.drafts.schemas import DraftOut
from copyloom.contracts.enums import Channel, DecisionKind
from copyloom.domain.fields import AwareUtcDateTime


class DecisionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "campaign_id": "0f3c…",
                    "customer_id": "C1001",
                    "channel": "push",
                    "deadline_ms": 200,
                    "idempotency_key": "journey-42:C1001:push",
                }
            ]
        },
    )

    campaign_id: str = Field(min_length=1, max_length=32)
    customer_id: str = Field(min_length=1, max_length=128)
    channel: Channel
    send_at: AwareUtcDateTime | None = None
    deadline_ms: int | None = Field(default=None, ge=10, le=60_000)
    idempotency_key: str = Field(min_length=1, max_length=200)


class DecisionOut(BaseModel):
    decision_id: str
    decision: DecisionKind
    source: Literal["approved", "generated", "control"] | None = None
    reason_code: str | None = None
    message: str | None = None
    send_after: datetime | None = None
    draft: DraftOut | None = None
    replayed: bool = Field(default=False, description="True when this answers an idempotency key seen before.")


class DecisionBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[DecisionRequest] = Field(min_length=1, max_length=1000)


class DecisionItemError(BaseModel):
    code: str
    message: str


class DecisionBatchItem(BaseModel):
    index: int
    result: DecisionOut | None = None
    error: DecisionItemError | None = None


class DecisionBatchOut(BaseModel):
    results: list[DecisionBatchItem]


OutcomeEvent = Literal["delivered", "opened", "clicked", "converted", "unsubscribed", "complained"]


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"draft_id": "…", "event": "clicked"}]})

    draft_id: str = Field(min_length=1, max_length=32)
    event: OutcomeEvent
    customer_id: str | None = Field(
        default=None, max_length=128, description="Required for a campaign control, which many customers get."
    )
    occurred_at: AwareUtcDateTime | None = None


class OutcomeOut(BaseModel):
    id: int
    draft_id: str
    event: OutcomeEvent
    occurred_at: datetime
    consent_withdrawn: bool = False
