"""Two ``copyloom worker`` processes on Redis and PostgreSQL: work completes, is shared, survives a SIGKILL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, text

from copyloom.worker import CeleryRunner
from tests.worker.conftest import Cluster, rows

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.parametrize("db_backend", ["postgres"], indirect=True),
]


def count(engine: Engine, sql: str, **params: object) -> int:
    return int(rows(engine, sql, **params)[0][0])


def test_tasks_sent_to_two_workers_all_complete_once(cluster: Cluster, engine: Engine) -> None:
    cluster.start("w1", "--concurrency=1")
    cluster.start("w2", "--pool=threads", "--concurrency=2")
    runner = CeleryRunner(cluster.settings)
    keys = [f"k{i}" for i in range(30)]
    for key in keys:
        runner.submit("test.record", {"key": key})
    runner.shutdown()
    cluster.poll(
        lambda: count(engine, "SELECT count(*) FROM worker_probe WHERE event = 'done'") >= len(keys), what="30 tasks"
    )
    done = [r.key for r in rows(engine, "SELECT key FROM worker_probe WHERE event = 'done'")]
    assert sorted(done) == sorted(keys)  # each exactly once: none lost, none run twice


def test_both_workers_take_work(cluster: Cluster, engine: Engine) -> None:
    """Two tasks that each finish only when two processes started one: a worker that reserved both (prefetch)
    would deadlock them until they time out."""
    cluster.start("w1", "--concurrency=1")
    cluster.start("w2", "--concurrency=1")
    runner = CeleryRunner(cluster.settings)
    for key in ("a", "b"):
        runner.submit("test.barrier", {"key": key, "group": "g", "parties": 2})
    runner.shutdown()
    cluster.poll(
        lambda: count(engine, "SELECT count(*) FROM worker_probe WHERE event = 'done'") == 2, what="both tasks"
    )
    started = rows(engine, "SELECT pid, ppid FROM worker_probe WHERE event = 'started:g'")
    assert {cluster.owner(r.pid, r.ppid).name for r in started} == {"w1", "w2"}


def test_task_of_a_killed_worker_is_redelivered_and_finishes_on_the_other(cluster: Cluster, engine: Engine) -> None:
    cluster.start("w1", "--concurrency=1")
    cluster.start("w2", "--concurrency=1")
    cluster.wait_ready()
    runner = CeleryRunner(cluster.settings)
    runner.submit("test.hold", {"key": "long"})
    runner.shutdown()
    first = cluster.poll(
        lambda: rows(engine, "SELECT pid, ppid FROM worker_probe WHERE key = 'long' AND event = 'started'"),
        what="the long task to start",
    )[0]
    victim = cluster.owner(first.pid, first.ppid)
    victim.kill()
    with engine.begin() as conn:  # only now may the task finish: the victim never can
        conn.execute(text("INSERT INTO worker_probe (key, event, pid, ppid) VALUES ('long', 'release', 0, 0)"))
    survivor = next(w for w in cluster.workers if w is not victim)
    done = cluster.poll(
        lambda: rows(engine, "SELECT pid, ppid FROM worker_probe WHERE key = 'long' AND event = 'done'"),
        timeout=180,
        what=f"redelivery to {survivor.name}",
    )
    assert [cluster.owner(r.pid, r.ppid).name for r in done] == [survivor.name]


def test_failed_task_is_retried_with_backoff_until_it_succeeds(cluster: Cluster, engine: Engine) -> None:
    cluster.start("w1", "--pool=solo")
    runner = CeleryRunner(cluster.settings)
    key = f"flaky-{uuid.uuid4().hex[:6]}"
    runner.submit("test.flaky", {"key": key, "failures": 2})
    runner.shutdown()
    cluster.poll(
        lambda: count(engine, "SELECT count(*) FROM worker_probe WHERE key = :k AND event = 'done'", k=key), what="done"
    )
    assert count(engine, "SELECT count(*) FROM worker_probe WHERE key = :k AND event = 'attempt'", k=key) == 3
