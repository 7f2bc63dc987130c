"""The migrations and the ORM models describe the same schema, on every supported database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from copyloom.db import write
from copyloom.models import Base, Customer, Workspace

pytestmark = pytest.mark.store


def test_migrated_schema_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_datetimes_come_back_timezone_aware_utc(session_factory: sessionmaker[Session]) -> None:
    local = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    with write(session_factory) as s:
        s.add(Workspace(id="w", name="w", created_at=local))
    with write(session_factory) as s:
        got = s.get(Workspace, "w")
        assert got is not None
        assert got.created_at == local and got.created_at.tzinfo is not None
        assert got.created_at.utcoffset() == UTC.utcoffset(None)


def test_failed_transaction_leaves_nothing(session_factory: sessionmaker[Session]) -> None:
    with write(session_factory) as s:
        s.add(Workspace(id="w", name="w"))
    with pytest.raises(RuntimeError), write(session_factory) as s:
        s.add(Customer(workspace_id="w", external_id="c1", name="Ana"))
        s.flush()
        raise RuntimeError("boom")
    with write(session_factory) as s:
        assert s.query(Customer).count() == 0


def test_json_attributes_round_trip_unicode(session_factory: sessionmaker[Session]) -> None:
    with write(session_factory) as s:
        s.add(Workspace(id="w", name="w"))
        s.flush()
        s.add(Customer(workspace_id="w", external_id="c1", name="王芳", attributes={"interests": ["露营", "徒步"]}))
    with write(session_factory) as s:
        c = s.query(Customer).one()
        assert c.name == "王芳" and c.attributes == {"interests": ["露营", "徒步"]}
