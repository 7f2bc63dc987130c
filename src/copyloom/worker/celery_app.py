"""The Celery application: one Celery task, ``copyloom.run_task(name, payload)``, runs any registered task.

Delivery is at least once: a message is acknowledged only after its task ended (``task_acks_late``), a task
whose worker process died is given back to the queue (``task_reject_on_worker_lost``), and a message held by a
worker that vanished with its connection (SIGKILL, a lost machine) is delivered again after the visibility
timeout. Every task must therefore be safe to run twice (campaign chunks are leased). A worker process reserves
one message at a time (``worker_prefetch_multiplier=1``), so a long task never holds others hostage.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any

from celery import Celery, signals
from sqlalchemy import Engine

from copyloom.config import Settings
from copyloom.content.tasks import TASKS, TaskContext, run_task
from copyloom.db import make_engine, make_session_factory
from copyloom.errors import CopyloomError, InvalidInput
from copyloom.logs import JsonFormatter, configure_logging

__all__ = [
    "TASK_MODULES",
    "TASK_NAME",
    "UnknownTask",
    "WorkerState",
    "create_celery_app",
    "is_permanent",
    "retry_delay",
]

log = logging.getLogger("copyloom.worker")

TASK_NAME = "copyloom.run_task"
# Modules whose import registers the tasks a worker runs (``@task("…")`` in content/).
TASK_MODULES = ("copyloom.content.campaigns.service", "copyloom.content.indexing")


class UnknownTask(InvalidInput):
    default_code = "unknown_task"


class WorkerState:
    """The ``TaskContext`` of one worker process, built once: when a prefork child starts, or at the first task
    of a solo or threads worker (never in a prefork parent, whose connections its children would share)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app: Celery | None = None  # set by create_celery_app: the app tasks fan out through (campaign chunks)
        self._ctx: TaskContext | None = None
        self._db: Engine | None = None
        self._lock = threading.Lock()

    def context(self) -> TaskContext:
        with self._lock:
            if self._ctx is None:
                from copyloom.content.engine import build_content_engine
                from copyloom.worker.runner import CeleryRunner

                self._db = make_engine(self.settings.effective_database_url)
                runner = CeleryRunner(self.settings, self.app) if self.app is not None else None
                self._ctx = TaskContext(
                    build_content_engine(self.settings), make_session_factory(self._db), runner=runner
                )
                log.info("worker.context.built")
            return self._ctx

    def close(self) -> None:
        with self._lock:
            ctx, db = self._ctx, self._db
            self._ctx, self._db = None, None
        if ctx is not None:
            ctx.engine.close()  # its model sessions, Chroma client, embedding cache and embedder workers
        if db is not None:
            db.dispose()


def retry_delay(settings: Settings, retries: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter, capped below half the visibility timeout: a retry waits in the
    worker's memory until it is due, and one longer than the timeout would be delivered twice."""
    cap = min(settings.worker_retry_backoff_max_s, settings.worker_visibility_timeout_s / 2)
    ceiling = min(cap, settings.worker_retry_backoff_s * 2**retries)
    return (rng or random).uniform(ceiling / 2, ceiling)


def is_permanent(exc: Exception) -> bool:
    """An expected failure about the request itself (unknown campaign, bad payload) fails the same way again."""
    return isinstance(exc, CopyloomError) and exc.status < 500


def create_celery_app(settings: Settings, *, worker: bool = False) -> Celery:
    """The Celery app for ``settings``: a producer in the API, or with ``worker=True`` the app a worker runs
    (its context built per process, its logs in copyloom's JSON format)."""
    if settings.broker_url is None:
        raise ValueError("COPYLOOM_BROKER_URL is not set")
    vt = settings.worker_visibility_timeout_s
    app = Celery("copyloom", broker=settings.broker_url.get_secret_value(), set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A worker that lost its broker connection stops what it runs: the broker hands those messages out again.
        worker_cancel_long_running_tasks_on_connection_loss=True,
        task_default_queue=settings.broker_queue,
        broker_connection_retry_on_startup=True,
        # Sweep for abandoned messages often enough that a dead worker's task comes back soon after the timeout.
        broker_transport_options={
            "visibility_timeout": vt,
            "unacked_restore_interval": max(1, min(10, vt // 4)),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
        enable_utc=True,
        imports=[*TASK_MODULES, *settings.worker_imports],
    )
    state = WorkerState(settings)
    state.app = app

    def run(self: Any, name: str, payload: dict[str, Any]) -> None:
        attempt = int(self.request.retries) + 1
        fields = {"task": name, "attempt": attempt, "message_id": self.request.id}
        if name not in TASKS:
            log.error("worker.task.unknown", extra=fields)
            raise UnknownTask(f"no task {name!r} is registered in this worker", field="name")
        started = time.perf_counter()
        try:
            run_task(state.context(), name, payload)
        except Exception as exc:
            if is_permanent(exc) or attempt > settings.worker_max_retries:
                log.exception("worker.task.failed", extra=fields)
                raise
            delay = retry_delay(settings, attempt - 1)
            log.warning("worker.task.retry", extra={**fields, "in_s": round(delay, 2), "error": repr(exc)})
            raise self.retry(exc=exc, countdown=delay, max_retries=settings.worker_max_retries) from exc
        log.info("worker.task.done", extra={**fields, "duration_s": round(time.perf_counter() - started, 3)})

    # shared=False: a shared task would be added to every Celery app of the process, each with its own state.
    app.task(name=TASK_NAME, bind=True, shared=False)(run)
    if worker:
        _connect_worker_signals(settings, state)
    return app


def _connect_worker_signals(settings: Settings, state: WorkerState) -> None:
    def setup_logging(loglevel: int | str | None = None, **_: Any) -> None:
        level = logging.getLevelName(loglevel) if isinstance(loglevel, int) else (loglevel or settings.log_level)
        configure_logging(str(level), settings.log_json)
        # Celery's and kombu's own records (task received, connection lost) in the same format.
        handler = logging.StreamHandler()
        if settings.log_json:
            handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(str(level).upper())
        # One line per HTTP call to Chroma or the model endpoint drowns the task lines.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))

    def process_init(**_: Any) -> None:
        state.context()

    def process_shutdown(**_: Any) -> None:
        state.close()

    # Connected receivers replace Celery's own logging set-up; weak=False: these closures have no other owner.
    signals.setup_logging.connect(setup_logging, weak=False)
    signals.worker_process_init.connect(process_init, weak=False)
    signals.worker_process_shutdown.connect(process_shutdown, weak=False)
    signals.worker_shutdown.connect(process_shutdown, weak=False)
