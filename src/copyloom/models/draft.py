"""A generated (or edited, or control) message for one customer and channel, with its full provenance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from copyloom.contracts.enums import DraftStatus
from copyloom.models.base import Base, StrEnumType, new_id, utcnow


class Draft(Base):
    __tablename__ = "drafts"
    __table_args__ = (
        Index("ix_drafts_ws_status_created", "workspace_id", "status", "created_at"),
        Index("ix_drafts_customer", "customer_id", "channel"),
        Index("ix_drafts_campaign", "campaign_id", "customer_id", "channel"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # Null for a campaign's control (non-personalized) draft.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"))
    request_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    variant_index: Mapped[int] = mapped_column(default=0)
    angle: Mapped[str | None] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(String(32))
    brief: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_control: Mapped[bool] = mapped_column(default=False)
    content: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[DraftStatus] = mapped_column(StrEnumType(DraftStatus, 20))
    verdict: Mapped[str] = mapped_column(String(8))  # pass | flag | block
    guardrail_report: Mapped[dict[str, Any]] = mapped_column()
    cited_fact_ids: Mapped[list[str]] = mapped_column(default=list)
    # The facts bundle the draft was written from: re-checking an edit needs exactly these facts.
    bundle: Mapped[dict[str, Any]] = mapped_column()
    generator: Mapped[dict[str, Any]] = mapped_column()
    usage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    latency_ms: Mapped[float] = mapped_column(default=0.0)
    review_reason: Mapped[str | None] = mapped_column(String(200))
    review_priority: Mapped[int] = mapped_column(default=0)
    send_at: Mapped[datetime | None] = mapped_column(default=None)
    # Bumped on every state change; a reviewer's write must name the version it saw (one of two racing wins).
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
