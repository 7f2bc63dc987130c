"""Tasks that only the worker tests register (``COPYLOOM_WORKER_IMPORTS``): each writes what it did, and in which
process, to the ``worker_probe`` table of the test's schema, where the test reads it."""

from __future__ import annotations

import os
import time
from typing import Any

from sqlalchemy import text

from copyloom.content.tasks import TaskContext, task
from copyloom.db import write

PROBE_TABLE = """CREATE TABLE worker_probe (
    id SERIAL PRIMARY KEY, key TEXT NOT NULL, event TEXT NOT NULL, pid INTEGER NOT NULL, ppid INTEGER NOT NULL
)"""
# Longest a probe task waits for a condition: far beyond what the tests need, short enough that nothing hangs.
PATIENCE_S = 240.0


def record(ctx: TaskContext, key: str, event: str) -> None:
    with write(ctx.session_factory) as session:
        session.execute(
            text("INSERT INTO worker_probe (key, event, pid, ppid) VALUES (:key, :event, :pid, :ppid)"),
            {"key": key, "event": event, "pid": os.getpid(), "ppid": os.getppid()},
        )


def count(ctx: TaskContext, sql: str, **params: Any) -> int:
    with write(ctx.session_factory) as session:
        return int(session.execute(text(sql), params).scalar_one())


def wait_for(ctx: TaskContext, sql: str, at_least: int, **params: Any) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while count(ctx, sql, **params) < at_least:
        if time.monotonic() > deadline:
            raise TimeoutError(sql)
        time.sleep(0.1)


@task("test.record")
def record_task(ctx: TaskContext, payload: dict[str, Any]) -> None:
    record(ctx, str(payload["key"]), "done")


@task("test.barrier")
def barrier(ctx: TaskContext, payload: dict[str, Any]) -> None:
    """Start, then finish only once ``parties`` different processes started a task of the group: one process
    that took every task would wait forever (and time out)."""
    key, group = str(payload["key"]), str(payload["group"])
    record(ctx, key, f"started:{group}")
    sql = "SELECT count(DISTINCT pid) FROM worker_probe WHERE event = :event"
    wait_for(ctx, sql, int(payload["parties"]), event=f"started:{group}")
    record(ctx, key, "done")


@task("test.hold")
def hold(ctx: TaskContext, payload: dict[str, Any]) -> None:
    """Start, then run until the test writes a ``release`` row for this key."""
    key = str(payload["key"])
    record(ctx, key, "started")
    wait_for(ctx, "SELECT count(*) FROM worker_probe WHERE key = :key AND event = 'release'", 1, key=key)
    record(ctx, key, "done")


@task("test.flaky")
def flaky(ctx: TaskContext, payload: dict[str, Any]) -> None:
    """Fail the first ``failures`` attempts, as a database or model outage would."""
    key = str(payload["key"])
    record(ctx, key, "attempt")
    if count(ctx, "SELECT count(*) FROM worker_probe WHERE key = :key AND event = 'attempt'", key=key) <= int(
        payload["failures"]
    ):
        raise ConnectionError("transient failure")
    record(ctx, key, "done")
