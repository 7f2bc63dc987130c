"""A campaign: one brief sent to an audience, generated per customer in the background."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from copyloom.contracts.enums import CampaignStatus
from copyloom.models.base import Base, StrEnumType, new_id, utcnow


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    brief: Mapped[dict[str, Any]] = mapped_column()
    channels: Mapped[list[str]] = mapped_column()
    audience: Mapped[dict[str, Any]] = mapped_column()
    variants: Mapped[int] = mapped_column(default=1)
    control: Mapped[dict[str, Any]] = mapped_column(default=dict)
    approval: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[CampaignStatus] = mapped_column(StrEnumType(CampaignStatus, 16), default=CampaignStatus.QUEUED)
    error: Mapped[str | None] = mapped_column(String(500))
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
