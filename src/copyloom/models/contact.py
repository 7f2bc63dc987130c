"""Contact history: what was sent to (or decided for) a customer, the basis of fatigue rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from copyloom.contracts.enums import ContactKind
from copyloom.models.base import Base, StrEnumType, utcnow


class ContactRecord(Base):
    __tablename__ = "contact_history"
    __table_args__ = (Index("ix_contact_customer_channel_time", "customer_id", "channel", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[ContactKind] = mapped_column(StrEnumType(ContactKind, 16), default=ContactKind.SENT)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    draft_id: Mapped[str | None] = mapped_column(String(32))
    campaign_id: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
