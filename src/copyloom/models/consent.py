"""Consent records: append-only history per customer × purpose × channel; the latest record is in force."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from copyloom.models.base import Base, utcnow


class Consent(Base):
    __tablename__ = "consents"
    __table_args__ = (
        UniqueConstraint("customer_id", "purpose", "channel", "recorded_at", "status"),
        Index("ix_consents_lookup", "customer_id", "purpose", "channel", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column()
    source: Mapped[str | None] = mapped_column(String(200))
    wording_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
