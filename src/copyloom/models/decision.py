"""A journey engine's real-time decision; the idempotency key makes a retry return the same answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from copyloom.contracts.enums import DecisionKind
from copyloom.models.base import Base, StrEnumType, new_id, utcnow


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    decision: Mapped[DecisionKind] = mapped_column(StrEnumType(DecisionKind, 16))
    source: Mapped[str | None] = mapped_column(String(16))  # approved | generated | control
    reason_code: Mapped[str | None] = mapped_column(String(64))
    draft_id: Mapped[str | None] = mapped_column(ForeignKey("drafts.id", ondelete="SET NULL"))
    response: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
