"""A small task interface for background work.

Task functions are plain functions of JSON-able arguments, registered by name; ``InProcessRunner`` runs them on
worker threads of this process. A distributed queue (RQ, Celery, Arq) can run the very same functions: it only has
to call ``run_task(name, payload)`` in a worker process that built the same ``TaskContext``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from copyloom.content.engine import ContentEngine

log = logging.getLogger("copyloom.tasks")


@dataclass(frozen=True)
class TaskContext:
    engine: ContentEngine
    session_factory: sessionmaker[Session]
    # Where a task submits the tasks it fans out to (a campaign's chunks): this process's runner, or the broker's.
    runner: TaskRunner | None = None
    # Set when the process shuts down: long tasks stop taking new work and hand back what they have not started.
    stop: threading.Event | None = None


TaskFn = Callable[[TaskContext, dict[str, Any]], None]
TASKS: dict[str, TaskFn] = {}


def task(name: str) -> Callable[[TaskFn], TaskFn]:
    def register(fn: TaskFn) -> TaskFn:
        TASKS[name] = fn
        return fn

    return register


def run_task(ctx: TaskContext, name: str, payload: dict[str, Any]) -> None:
    TASKS[name](ctx, payload)


class TaskRunner(Protocol):
    def submit(self, name: str, payload: dict[str, Any]) -> None: ...


class InProcessRunner:
    """Runs tasks on a small thread pool; a task submitted twice for the same key runs once at a time."""

    def __init__(self, ctx: TaskContext, workers: int = 2) -> None:
        self._stop = threading.Event()
        self.ctx = (
            replace(ctx, runner=ctx.runner or self, stop=ctx.stop or self._stop)
            if isinstance(ctx, TaskContext)
            else ctx
        )
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="copyloom-task")
        self._running: dict[str, Future[None]] = {}
        self._again: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, name: str, payload: dict[str, Any]) -> None:
        """Run the task; if the same task is already running, run it once more after it (never twice at once),
        so that work submitted during a run (a new import during indexing) is not missed."""
        key = f"{name}:{sorted(payload.items())}"
        with self._lock:
            current = self._running.get(key)
            if current is not None and not current.done():
                self._again.add(key)
                return
            self._running[key] = self._pool.submit(self._run, key, name, payload)

    def _run(self, key: str, name: str, payload: dict[str, Any]) -> None:
        while True:
            try:
                run_task(self.ctx, name, payload)
            except Exception:  # a failed task is logged and recorded by the task itself; the pool must survive
                log.exception("tasks.failed", extra={"task": name, "payload": payload})
            with self._lock:
                if key not in self._again:
                    return
                self._again.discard(key)

    def wait(self, timeout: float | None = None) -> None:
        """Block until every submitted task finished, the tasks those submitted included (tests, CLI)."""
        while True:
            with self._lock:
                futures = [f for f in self._running.values() if not f.done()]
            if not futures:
                return
            for f in futures:
                f.result(timeout=timeout)

    def shutdown(self, wait_s: float = 30.0) -> None:
        """Stop: queued tasks are dropped, running ones are told to stop (a campaign chunk finishes the customers
        it is drafting and hands back the rest) and waited for up to ``wait_s``."""
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            futures = [f for f in self._running.values() if not f.done()]
        for f in futures:
            # cancelled, failed (already logged) or still running after wait_s: nothing more to do here
            with contextlib.suppress(Exception):
                f.result(timeout=wait_s)
