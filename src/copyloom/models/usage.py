"""The usage ledger: one row per language-model generation, for cost reporting and daily budgets."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from copyloom.models.base import Base, new_id, utcnow


class UsageRecord(Base):
    __tablename__ = "usage_ledger"
    # Budgets sum one workspace's rows since the start of the (UTC) day.
    __table_args__ = (Index("ix_usage_ledger_workspace_created", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    operation: Mapped[str] = mapped_column(String(16))  # generate | refine
    generator_kind: Mapped[str] = mapped_column(String(16))  # offline | llm
    model: Mapped[str | None] = mapped_column(String(200))
    prompt_name: Mapped[str] = mapped_column(String(100))
    prompt_version: Mapped[int] = mapped_column()
    channel: Mapped[str | None] = mapped_column(String(16))
    draft_id: Mapped[str | None] = mapped_column(String(64))  # the draft it produced, when known
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    total_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 8), default=Decimal("0"))
    attempts: Mapped[int] = mapped_column(default=1)
    latency_ms: Mapped[float] = mapped_column(default=0.0)
