"""Alembic environment: runs on the connection handed over by ``copyloom.db.upgrade`` or on a URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from copyloom.config import get_settings
from copyloom.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or get_settings().effective_database_url
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
