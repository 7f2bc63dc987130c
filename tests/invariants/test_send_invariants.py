"""Invariants of sends under random interleavings, with real threads (and processes on SQLite), asserted on the
database: never a send committed after the withdrawal that forbids it; never more sends than the caps allow.

Each worker draws its own random sequence of steps (single, batch and control decisions; marketing and
personalization grants and withdrawals; unsubscribe outcomes) over a few customers, so that the steps collide.
Together the three tests run 11,000 steps (4 threads x 1,250 on SQLite and on PostgreSQL, 2 processes x 500 on
SQLite); ``COPYLOOM_INVARIANT_SCALE`` multiplies them."""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from copyloom.config import Settings
from tests.invariants.world import Driver, StepLog, engine_for, run_worker, seed_world, violations

WORKERS = 4
SCALE = float(os.environ.get("COPYLOOM_INVARIANT_SCALE", "1"))
STEPS = int(1250 * SCALE)  # per thread
PROCESS_STEPS = int(500 * SCALE)  # per process


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """As many decision threads as workers: SQLite's default of one would serialize the race."""
    return settings.model_copy(update={"decision_db_threads": WORKERS})


@pytest.mark.slow
@pytest.mark.store
def test_random_interleavings_in_threads_keep_consent_and_caps(
    settings: Settings, session_factory: sessionmaker[Session], step_log: StepLog
) -> None:
    world = seed_world(session_factory)
    engine = engine_for(settings)
    seed = random.randrange(1 << 30)
    errors: list[BaseException] = []
    barrier = threading.Barrier(WORKERS)

    def work(i: int) -> None:
        driver = Driver(world, engine, session_factory, seed + i)
        ran: Counter[str] = Counter()
        try:
            barrier.wait()
            for _ in range(STEPS):
                ran[driver.step()] += 1
        except BaseException as exc:  # surfaced below with the seed
            errors.append(exc)
        finally:
            driver.close()
            with lock:
                step_log.steps.update(ran)

    lock = threading.Lock()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, (seed, errors)
    assert step_log.steps.total() == WORKERS * STEPS
    found, sends = violations(session_factory)
    step_log.sends = sends
    assert not found, (seed, found[:10])
    assert sends > 0, "the steps never sent anything: the test would prove nothing"


@pytest.mark.slow
def test_random_interleavings_in_processes_keep_consent_and_caps_on_sqlite(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], step_log: StepLog
) -> None:
    world = seed_world(session_factory)
    seed = random.randrange(1 << 30)
    url = settings.effective_database_url
    data = settings.model_dump(mode="json")
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = list(pool.map(run_worker, [url] * 2, [data] * 2, [world] * 2, [seed, seed + 1], [PROCESS_STEPS] * 2))
    for ran in done:
        step_log.steps.update(ran)
    assert [ran.total() for ran in done] == [PROCESS_STEPS, PROCESS_STEPS]
    found, sends = violations(session_factory)
    step_log.sends = sends
    assert not found, (seed, found[:10])
    assert sends > 0
