"""Engine, sessions and migrations.

SQLite (the default) runs in WAL mode with foreign keys on; PostgreSQL works through ``postgresql+psycopg://``.
Services never commit: the caller owns the transaction through the unit of work, :func:`write` or :func:`read`.
"""

from __future__ import annotations

import ast
import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
READ_ONLY = "copyloom_read_only"


class _SerializedSQLite(sqlite3.Connection):
    """A SQLite connection whose write transactions queue on a lock instead of SQLite's busy-sleep.

    SQLite has one writer. Left to itself, a waiting connection sleeps in growing steps (up to 100 ms) until the
    lock frees, which ruins tail latency and throughput under concurrent requests. Threads of one process hand the
    lock over through ``threading.Lock``; processes (``serve --workers N``, a CLI import beside the server) queue
    on an ``flock`` of a file beside the database, polled in steps of at most a millisecond. A process that dies
    holding it releases it with its file descriptors.
    """

    write_lock: threading.Lock  # set per engine on a subclass
    lock_path: str | None = None  # the file other processes lock; None for an in-memory database
    lock_timeout_s: float = 30.0
    _holds_lock = False
    _lock_fd: int | None = None
    _close_lock_fd: weakref.finalize[[int], _SerializedSQLite] | None = (
        None  # closes the descriptor if the pool drops us
    )

    def begin_immediate(self) -> None:
        deadline = time.monotonic() + self.lock_timeout_s
        if not self.write_lock.acquire(timeout=self.lock_timeout_s):
            raise sqlite3.OperationalError("database is locked (waited for another transaction of this process)")
        self._holds_lock = True
        try:
            self._lock_file(deadline)
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def _lock_file(self, deadline: float) -> None:
        if self.lock_path is None:
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            # A connection garbage-collected without close() (an engine dropped undisposed) must not keep it open.
            self._close_lock_fd = weakref.finalize(self, os.close, self._lock_fd)
        pause = 0.0001
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked (waited for another process)") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def _release(self) -> None:
        if self._holds_lock:
            self._holds_lock = False
            if self._lock_fd is not None:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
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
            if self._close_lock_fd is not None:
                self._close_lock_fd()  # closes the descriptor once; the finalizer is then dead
                self._close_lock_fd = None
            self._lock_fd = None


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Build an engine; for SQLite, create the parent folder and turn on WAL and foreign keys."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        path = database if database and database != ":memory:" and not database.startswith("file:") else None
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        lock_path = f"{path}.writelock" if path else None
        connection_class = type(
            "SerializedSQLite", (_SerializedSQLite,), {"write_lock": threading.Lock(), "lock_path": lock_path}
        )
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30, "factory": connection_class})
        # Enough pooled connections for the server's worker threads: a connection closed and reopened per
        # request would redo the PRAGMAs every time.
        if path:
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


T = TypeVar("T")

IN_LIST_MAX = 900  # bound parameters per IN list (SQLite's default limit is 999)


def in_chunks(values: Sequence[T]) -> list[list[T]]:
    """``values`` in lists of at most ``IN_LIST_MAX``: one IN list per query."""
    return [list(values[i : i + IN_LIST_MAX]) for i in range(0, len(values), IN_LIST_MAX)]


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def write(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The unit of work that writes: one transaction, committed when the block ends, rolled back on any exception
    (nothing half-written). What was registered with :func:`after_commit` runs once the commit succeeded."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        callbacks: list[Callable[[], object]] = session.info.pop(_AFTER_COMMIT, [])
        session.close()
    for callback in callbacks:  # reached only when the commit succeeded
        callback()


@contextmanager
def read(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The unit of work that only reads: never commits. On SQLite it is a deferred transaction (a WAL snapshot)
    that waits for no writer and blocks none; whatever it might have changed is rolled back. Core statements run
    on ``session.connection()`` (cheaper than the ORM on a hot path) inside the same transaction."""
    session = factory()
    try:
        session.connection(execution_options={READ_ONLY: True})
        yield session
    finally:
        session.info.pop(_AFTER_COMMIT, None)  # a read never commits: nothing registered runs
        session.expunge_all()  # what was read stays readable after the rollback (which would expire it)
        session.rollback()
        session.close()


_AFTER_COMMIT = "copyloom_after_commit"


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` once the :func:`write` unit of work of ``session`` has committed (never if it rolls back):
    background work is enqueued after the commit it depends on, so a worker never looks for rows not yet there."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def head_revisions(versions: Path | None = None) -> set[str]:
    """The migration heads, read from the revision files' ``revision``/``down_revision`` literals.

    Importing Alembic costs about half a second (it loads every dialect's DDL module); a command on an up-to-date
    database (most runs) needs only to know that there is nothing to apply. tests/cli/test_startup.py checks this against
    Alembic's own ``ScriptDirectory.get_heads()``.
    """
    if versions is None:
        versions = MIGRATIONS_DIR / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                name, expression = node.target.id, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name, expression = node.targets[0].id, node.value
            else:
                continue
            if name not in ("revision", "down_revision"):
                continue
            value = ast.literal_eval(expression)
            if name == "revision":
                revisions.add(value)
            elif name == "down_revision" and value is not None:
                parents.update([value] if isinstance(value, str) else value)
    return revisions - parents


def at_head(engine: Engine) -> bool:
    """Whether the database already carries every migration (a missing version table means no)."""
    try:
        with engine.connect() as conn:
            current = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:
        return False
    heads = head_revisions()
    return bool(heads) and current == heads


def upgrade(engine: Engine) -> None:
    """Apply every Alembic migration to the database behind ``engine`` (nothing to do, and no Alembic import, at head)."""
    if at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
