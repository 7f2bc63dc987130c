"""Reviewer sign-ins to the web pages. The cookie holds a random token; only its SHA-256 is stored, and the
session dies with its key (revoked or deleted), at its expiry, or at sign-out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from copyloom.models.base import Base, utcnow


class ReviewerSession(Base):
    __tablename__ = "reviewer_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
