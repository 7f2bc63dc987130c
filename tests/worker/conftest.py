"""Real ``copyloom worker`` processes on the Redis server that scripts/test starts, a per-test PostgreSQL schema
and the Chroma server: Celery's eager mode would hide every distribution bug these tests look for."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from copyloom.config import Settings
from tests.worker.probe_tasks import PROBE_TABLE

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("COPYLOOM_TEST_REDIS_URL")
CHROMA_URL = os.environ.get("COPYLOOM_TEST_CHROMA_URL")
# A dead worker's task comes back after this; short so that the tests do not wait long for it.
VISIBILITY_TIMEOUT_S = 8

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="COPYLOOM_TEST_REDIS_URL is not set (scripts/test starts Redis)")


def poll(condition: Callable[[], Any], timeout: float = 120.0, what: str | Callable[[], str] = "condition") -> Any:
    """The condition's first truthy value; fails after ``timeout`` (generous: the machine is shared), saying
    ``what`` it waited for (a callable is asked then: the workers' latest log lines)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        time.sleep(0.2)


def _die_with_test() -> None:  # pragma: no cover - runs in the child, before exec
    """SIGKILL the worker if the test process dies (even SIGKILLed, when no teardown runs)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    killed: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes (its own process group), as a lost machine would be."""
        self.killed = True
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@dataclass
class Cluster:
    """Worker processes sharing one queue of their own on the test Redis, and the settings to send them work."""

    settings: Settings
    env: dict[str, str]
    tmp: Path
    workers: list[Worker] = field(default_factory=list)

    def start(self, name: str, *args: str) -> Worker:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from copyloom.cli import main; main()",
                    "worker",
                    f"--hostname={name}@%h",
                    *args,
                ],
                env=self.env,
                cwd=self.tmp,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed with its pool processes
                preexec_fn=_die_with_test,
            )
        worker = Worker(name, process, log)
        self.workers.append(worker)
        return worker

    def wait_ready(self) -> None:
        """Until every running worker answers a ping (it consumes from the queue by then)."""
        from copyloom.worker.celery_app import create_celery_app

        app = create_celery_app(self.settings)
        try:
            for worker in self.workers:
                host = f"{worker.name}@{os.uname().nodename}"

                def answered(host: str = host, worker: Worker = worker) -> bool:
                    assert worker.process.poll() is None, f"{worker.name} exited:\n{self.tail(worker)}"
                    return bool(app.control.ping(destination=[host], timeout=1.0))

                poll(answered, timeout=180, what=f"{host} to start")
        finally:
            app.close()

    def poll(self, condition: Callable[[], Any], timeout: float = 120.0, what: str = "condition") -> Any:
        """``poll`` that fails at once, with its log, when a worker the test did not kill has exited."""

        def check() -> Any:
            for worker in self.workers:
                if not worker.killed and worker.process.poll() is not None:
                    raise AssertionError(f"{worker.name} exited ({worker.process.returncode}):\n{self.tail(worker)}")
            return condition()

        return poll(check, timeout, lambda: f"{what}; the workers' last lines:\n{self.tails()}")

    def tails(self) -> str:
        return "\n".join(f"== {w.name}\n{self.tail(w)}" for w in self.workers)

    def owner(self, pid: int, ppid: int) -> Worker:
        """The worker a task ran in: its own process (solo, threads) or the parent of its pool process."""
        return next(w for w in self.workers if w.pid in (pid, ppid))

    def tail(self, worker: Worker, lines: int = 40) -> str:
        return "\n".join(worker.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                worker.kill()


@pytest.fixture
def cluster(settings: Settings, engine: Engine, tmp_path: Path) -> Iterator[Cluster]:
    """Settings on a fresh PostgreSQL schema (with the probe table) and a fresh queue; workers started by the
    test are SIGKILLed at teardown whatever happened."""
    if not REDIS_URL:
        pytest.skip("COPYLOOM_TEST_REDIS_URL is not set (scripts/test starts Redis)")
    if not CHROMA_URL:
        pytest.skip("COPYLOOM_TEST_CHROMA_URL is not set (scripts/test starts a Chroma server)")
    with engine.begin() as conn:
        conn.execute(text(PROBE_TABLE))
    queue = f"copyloom-test-{uuid.uuid4().hex[:12]}"
    overrides = {
        "COPYLOOM_DATA_DIR": str(tmp_path / "data"),
        "COPYLOOM_DATABASE_URL": settings.effective_database_url,
        "COPYLOOM_CHROMA_URL": CHROMA_URL,
        "COPYLOOM_BROKER_URL": REDIS_URL,
        "COPYLOOM_BROKER_QUEUE": queue,
        "COPYLOOM_WORKER_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
        "COPYLOOM_WORKER_RETRY_BACKOFF_S": "0.2",
        "COPYLOOM_WORKER_IMPORTS": '["tests.worker.probe_tasks"]',
        "COPYLOOM_LOG_JSON": "true",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYLOOM_") or k.startswith("COPYLOOM_TEST_")}
    env.update(overrides, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    worker_settings = settings.model_copy(
        update={
            "broker_url": Settings(broker_url=REDIS_URL).broker_url,
            "broker_queue": queue,
            "worker_visibility_timeout_s": VISIBILITY_TIMEOUT_S,
            "chroma_url": CHROMA_URL,
        }
    )
    cluster = Cluster(worker_settings, env, tmp_path)
    try:
        yield cluster
    finally:
        cluster.stop()
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        client.delete(queue)
        client.close()


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))
