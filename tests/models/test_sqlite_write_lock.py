"""SQLite writers queue on a lock shared by threads and processes instead of SQLite's busy-sleep."""

from __future__ import annotations

import gc
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from copyloom.db import READ_ONLY, make_engine
from tests.leaks import open_under


def _engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (who TEXT, n INTEGER)"))
    return engine


def test_a_second_engine_waits_for_the_first_writer_and_then_writes(tmp_path: Path) -> None:
    # Two engines have separate in-process locks, like two processes: only the file lock orders them.
    first, second = _engine(tmp_path / "db.sqlite"), _engine(tmp_path / "db.sqlite")
    order: list[str] = []
    holding, waiting_done = threading.Event(), threading.Event()

    def other_writer() -> None:
        holding.wait()
        with second.begin() as conn:
            order.append("second begins")
            conn.execute(text("INSERT INTO t VALUES ('second', 1)"))
        waiting_done.set()

    thread = threading.Thread(target=other_writer)
    thread.start()
    with first.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('first', 1)"))
        holding.set()
        assert not waiting_done.wait(0.3)  # the second writer is queued behind this transaction
        order.append("first commits")
    thread.join(10)
    assert order == ["first commits", "second begins"]
    with second.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_writer_gives_up_after_its_timeout_with_a_clear_error(tmp_path: Path) -> None:
    first, second = _engine(tmp_path / "db.sqlite"), _engine(tmp_path / "db.sqlite")
    with second.connect() as conn:
        type(conn.connection.dbapi_connection).lock_timeout_s = 0.2  # type: ignore[union-attr]
    with first.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('first', 1)"))
        with pytest.raises(sqlite3.OperationalError, match="waited for another process"), second.begin() as other:
            other.execute(text("INSERT INTO t VALUES ('second', 1)"))
    with second.begin() as conn:  # the failed attempt left nothing held behind
        conn.execute(text("INSERT INTO t VALUES ('second', 2)"))
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_reader_is_not_blocked_by_a_writer(tmp_path: Path) -> None:
    first, second = _engine(tmp_path / "db.sqlite"), _engine(tmp_path / "db.sqlite")
    with first.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES ('first', 1)"))
        with second.connect().execution_options(**{READ_ONLY: True}) as reader:  # a WAL snapshot read
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0


WRITER = """
import sys
from sqlalchemy import text
from copyloom.db import READ_ONLY, make_engine
engine = make_engine("sqlite:///" + sys.argv[1])
for i in range(150):
    with engine.begin() as conn:
        n = conn.execute(text("SELECT count(*) FROM t")).scalar()
        conn.execute(text("INSERT INTO t VALUES (:who, :n)"), {"who": sys.argv[2], "n": n})
"""


def test_processes_writing_at_once_lose_nothing_and_never_see_a_stale_count(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    _engine(path).dispose()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), who], stderr=subprocess.PIPE, text=True)
        for who in ("a", "b", "c")
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with sqlite3.connect(path) as conn:
        counts = [n for (n,) in conn.execute("SELECT n FROM t ORDER BY n")]
    # Each transaction read the count and wrote it: serialized writers see every earlier write.
    assert counts == list(range(450))


def _lock_file_descriptors(db: Path) -> int:
    return len(open_under(str(db) + ".writelock"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_an_engine_dropped_without_dispose_closes_its_lock_file(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    for _ in range(5):
        engine = make_engine(f"sqlite:///{db}")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        del engine, conn
    gc.collect()
    assert _lock_file_descriptors(db) == 0
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
    assert _lock_file_descriptors(db) == 1  # the pooled connection keeps its descriptor while it lives
    engine.dispose()
    assert _lock_file_descriptors(db) == 0
