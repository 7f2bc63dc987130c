"""The brand kit: voice, policies and the legal identity every message carries. One per workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from copyloom.models.base import Base, utcnow


class BrandKit(Base):
    __tablename__ = "brand_kits"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    voice: Mapped[str] = mapped_column(Text, default="")
    formality: Mapped[str] = mapped_column(String(16), default="neutral")  # casual | neutral | formal
    emoji_policy: Mapped[str] = mapped_column(String(16), default="sparingly")  # never | sparingly | allowed
    max_exclamations: Mapped[int] = mapped_column(default=1)
    banned_phrases: Mapped[list[str]] = mapped_column(default=list)
    competitor_names: Mapped[list[str]] = mapped_column(default=list)
    required_footer: Mapped[str | None] = mapped_column(Text)
    sender_identity: Mapped[str | None] = mapped_column(String(300))
    postal_address: Mapped[str | None] = mapped_column(String(500))
    locales: Mapped[list[str]] = mapped_column(default=list)
    # Brand-configurable policy numbers (frequency caps, quiet hours, …); DOMAIN.md defaults apply when absent.
    policies: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
