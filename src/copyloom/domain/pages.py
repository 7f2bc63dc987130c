"""Cursor pagination for every list of the API: newest first by ``(created_at, id)``, keyset-based, so a page
neither skips nor repeats rows when others are inserted meanwhile.

The cursor is opaque to callers: base64 of ``[table, created_at, id]`` of the last row served. A cursor of another
list (or a made-up one) is a 422 ``invalid_cursor`` rather than a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from copyloom.errors import InvalidInput

R = TypeVar("R")
T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next (``null`` on the last page)."""

    items: list[T]
    next_cursor: str | None = Field(default=None, description="Opaque; absent on the last page.")


def _table(entity: Any) -> str:
    return str(entity.__tablename__)


def encode_cursor(row: Any) -> str:
    raw = json.dumps([_table(type(row)), row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(entity: Any, cursor: str) -> tuple[datetime, Any]:
    """(created_at, id) of the row a cursor of ``entity``'s list points after; InvalidInput for anything else."""
    try:
        table, created, last_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(created)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidInput("cursor is not one this API returned", code="invalid_cursor", field="cursor") from exc
    id_type = entity.id.type.python_type
    if table != _table(entity) or type(last_id) is not id_type:
        raise InvalidInput("cursor belongs to another list", code="invalid_cursor", field="cursor")
    return at, last_id


def keyset_page(
    session: Session, query: Select[R], entity: type[R], *, limit: int, cursor: str | None
) -> tuple[list[R], str | None]:
    """The rows of ``query`` (a select of ``entity``, already filtered) after ``cursor``, newest first, and the
    cursor of the next page (None on the last)."""
    created_col: Any = getattr(entity, "created_at")  # noqa: B009  (every listed table has these two columns)
    id_col: Any = getattr(entity, "id")  # noqa: B009
    if cursor:
        at, last_id = decode_cursor(entity, cursor)
        query = query.where(or_(created_col < at, and_(created_col == at, id_col < last_id)))
    rows = list(session.scalars(query.order_by(created_col.desc(), id_col.desc()).limit(limit + 1)))
    return rows[:limit], encode_cursor(rows[limit - 1]) if len(rows) > limit else None
