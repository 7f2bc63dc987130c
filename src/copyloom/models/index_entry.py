"""What the vector index holds: one row per indexed document, with the hash of the text embedded.

The indexer compares these hashes with the source rows to embed only what is new or changed and to delete
from Chroma what no longer exists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from copyloom.models.base import Base, utcnow


class IndexEntry(Base):
    __tablename__ = "index_entries"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # product | note | knowledge
    content_hash: Mapped[str] = mapped_column(String(64))
    indexed_at: Mapped[datetime] = mapped_column(default=utcnow)
