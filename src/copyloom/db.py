"""Engine, sessions and migrations.

SQLite (the default) runs in WAL mode with foreign keys on; PostgreSQL works through ``postgresql+psycopg://``.
Services never commit: the caller owns the transaction through :func:`session_scope`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
READ_ONLY = "copyloom_read_only"


class _SerializedSQLite(sqlite3.Connection):
    """A SQLite connection whose write transactions queue on a lock shared by the process's connections.

    SQLite has one writer. Left to itself, a waiting connection sleeps in growing steps (up to 100 ms) until the
    lock frees, which ruins tail latency under concurrent requests. Threads of one process hand the lock over
    through ``threading.Lock`` instead; other processes still wait through SQLite's busy timeout.
    """

    write_lock: threading.Lock  # set per engine on a subclass
    lock_timeout_s: float = 30.0
    _holds_lock = False

    def begin_immediate(self) -> None:
        if not self.write_lock.acquire(timeout=self.lock_timeout_s):
            raise sqlite3.OperationalError("database is locked (waited for another transaction of this process)")
        self._holds_lock = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._holds_lock:
            self._holds_lock = False
            self.write_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine; for SQLite, create the parent folder and turn on WAL and foreign keys."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection_class = type("SerializedSQLite", (_SerializedSQLite,), {"write_lock": threading.Lock()})
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30, "factory": connection_class})
        # Enough pooled connections for the server's worker threads: a connection closed and reopened per
        # request would redo the PRAGMAs every time.
        if path != ":memory:":
            kwargs.setdefault("pool_size", 20)
            kwargs.setdefault("max_overflow", 20)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # pysqlite opens transactions only before DML, so a SAVEPOINT issued first (session.begin_nested())
            # would run outside any transaction and its RELEASE would commit. SQLAlchemy's documented recipe:
            # turn off the driver's own handling and emit BEGIN ourselves.
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front. A deferred transaction that reads and then writes cannot
            # wait for a concurrent writer (SQLite answers "database is locked" at once instead of using the
            # busy timeout), so concurrent decisions would fail. SQLite has one writer anyway.
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")  # a snapshot read in WAL mode: takes no write lock
                return
            dbapi = conn.connection.dbapi_connection
            if isinstance(dbapi, _SerializedSQLite):
                dbapi.begin_immediate()
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception (nothing half-written)."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def read_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A read-only transaction. On SQLite it is a deferred transaction (a WAL snapshot) that waits for no writer
    and blocks none; whatever it might have changed is rolled back."""
    session = factory()
    try:
        session.connection(execution_options={READ_ONLY: True})
        yield session
    finally:
        session.expunge_all()  # what was read stays readable after the rollback (which would expire it)
        session.rollback()
        session.close()


def upgrade(engine: Engine) -> None:
    """Apply every Alembic migration to the database behind ``engine``."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
