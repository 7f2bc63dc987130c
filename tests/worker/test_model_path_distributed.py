"""The model path at scale on PostgreSQL + Redis + two real ``copyloom worker`` processes: campaigns posted over
HTTP to an API with a broker, drafted by the workers against the model server of ``tests.modelserver`` (its own
process, 200 ms answers, connections kept alive), checked on the database and on the server's request log.

Durations and counts are logged (``copyloom.tests.measured``; see them with ``-o log_cli=true
--log-cli-level=INFO``), never asserted: the machine is shared.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.app import create_app
from copyloom.api.services import Services
from copyloom.config import Settings
from copyloom.contracts.enums import Role
from copyloom.db import make_session_factory, read, write
from copyloom.domain.demo import load_demo
from copyloom.domain.workspaces import create_workspace
from copyloom.models import CampaignTarget, Customer
from copyloom.retrieval.indexer import index_workspace
from copyloom.worker import CeleryRunner
from tests.conftest import auth, make_keys
from tests.model_path import (
    MALFORMED,
    break_sms_answers,
    check_campaign,
    check_model_requests,
    failed_targets,
    post_campaign,
    report_measured,
    requested,
    seed_customers,
    wait_campaign,
)
from tests.modelserver import ModelServer, start_model_server
from tests.worker.conftest import Cluster, Worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.timeout(1200),
    pytest.mark.parametrize("db_backend", ["postgres"], indirect=True),
]

LATENCY_MS = 200
LEASE_S = 6  # a killed worker's customers go back to the survivor this long after its last heartbeat


@pytest.fixture(scope="module")
def model_server() -> Iterator[ModelServer]:
    with start_model_server(latency_ms=LATENCY_MS, latency_jitter=0.3, seed=11) as server:
        yield server


@dataclass
class Deployment:
    cluster: Cluster
    client: TestClient
    factory: sessionmaker[Session]
    server: ModelServer
    key: str
    workspace: str

    def run(self, tag: str, *, timeout_s: float = 900, **body: Any) -> tuple[str, dict[str, Any], float]:
        """Post a campaign for the customers tagged ``tag`` and wait for it; (id, final body, seconds)."""
        started = time.monotonic()
        campaign_id = post_campaign(self.client, self.key, tag, **body)
        out = self.wait(campaign_id, timeout_s)
        return campaign_id, out, time.monotonic() - started

    def wait(self, campaign_id: str, timeout_s: float = 900) -> dict[str, Any]:
        out = wait_campaign(self.client, self.key, campaign_id, timeout_s, alive=self._alive)
        assert out["status"] == "completed", out
        return out

    def _alive(self) -> None:
        for worker in self.cluster.workers:
            if not worker.killed and worker.process.poll() is not None:
                raise AssertionError(f"{worker.name} exited:\n{self.cluster.tail(worker)}")

    def chunks_by_worker(self) -> dict[str, int]:
        """``campaigns.chunk_done`` lines in each worker's log."""
        return {w.name: w.log.read_text(errors="replace").count("campaigns.chunk_done") for w in self.cluster.workers}


@pytest.fixture
def deployment(cluster: Cluster, engine: Engine, model_server: ModelServer) -> Iterator[Deployment]:
    """A demo workspace of its own (Chroma collections are per workspace on the shared server), indexed; the
    workers' and the API's model settings pointing at the model server; two workers started and ready."""
    model_server.configure(
        latency_ms=LATENCY_MS, latency_jitter=0.3, faults=[], fault_rates={}, max_concurrency=None, storm_s=0
    )
    model_server.reset()
    factory = make_session_factory(engine)
    workspace = f"w{uuid.uuid4().hex[:10]}"
    with write(factory) as session:
        create_workspace(session, workspace, "Northwind")
        load_demo(session, workspace)
    model = {
        "COPYLOOM_LLM_MODEL": "openai:gpt-4o-mini",
        "COPYLOOM_LLM_BASE_URL": model_server.base_url,
        "COPYLOOM_LLM_API_KEY": "sk-test",
        "COPYLOOM_LLM_TIMEOUT_S": "20",
        "COPYLOOM_LLM_MAX_RETRIES": "1",
        "COPYLOOM_CAMPAIGN_CHUNK_SIZE": "16",
        "COPYLOOM_CAMPAIGN_LEASE_S": str(LEASE_S),
    }
    cluster.env.update(model)
    settings: Settings = cluster.settings.model_copy(
        update={
            "llm_model": model["COPYLOOM_LLM_MODEL"],
            "llm_base_url": model_server.base_url,
            "llm_api_key": SecretStr("sk-test"),
            "llm_timeout_s": 20.0,
            "llm_max_retries": 1,
        }
    )
    cluster.start("w1", "--concurrency=1")
    cluster.start("w2", "--concurrency=1")
    services = Services(settings=settings, engine=engine, session_factory=factory)
    content = services.content_engine()
    with write(factory) as session:
        index_workspace(session, content.store, content.embedder, workspace)
    key = make_keys(factory, workspace)[Role.MARKETER]
    cluster.wait_ready()
    with TestClient(create_app(settings, services)) as client:
        assert isinstance(services.task_runner(), CeleryRunner)
        yield Deployment(cluster, client, factory, model_server, key, workspace)
    services.close()  # the Celery app's broker connections, the Chroma client


def test_two_workers_draft_200_customers_on_2_channels_each_model_call_once(deployment: Deployment) -> None:
    seed_customers(deployment.factory, deployment.workspace, 200, "W")
    campaign_id, out, seconds = deployment.run("W")
    check = check_campaign(deployment.factory, campaign_id)
    assert check.statuses == {"done": 400}, check
    assert check.drafts == 400
    stats = deployment.server.stats()
    assert check_model_requests(stats, check) == 0
    assert out["progress"]["model_calls"] == check.model_calls
    chunks = deployment.chunks_by_worker()
    assert all(chunks.values()), f"a worker drafted nothing: {chunks}"
    assert stats["max_in_flight"] > 4, stats  # concurrent generation, not one call at a time
    report_measured("200x2", seconds, check, stats, chunks=chunks)


def _leases(deployment: Deployment, campaign_id: str) -> list[tuple[int, str, str]]:
    """Targets leased now: (pid of the process holding it, first name, channel)."""
    with read(deployment.factory) as s:
        rows = s.execute(
            select(CampaignTarget.lease_owner, Customer.name, CampaignTarget.channel)
            .join(Customer, Customer.id == CampaignTarget.customer_id)
            .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "leased")
        ).all()
    return [(int(str(owner).split(":")[1]), str(name).split(" ", 1)[0], channel) for owner, name, channel in rows]


def _worker_of(cluster: Cluster, pid: int) -> Worker:
    with open(f"/proc/{pid}/stat") as f:
        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    return cluster.owner(pid, ppid)


@pytest.mark.parametrize("victim_kind", ["worker", "pool_process"])
def test_a_worker_killed_mid_campaign_loses_and_duplicates_nothing(deployment: Deployment, victim_kind: str) -> None:
    """``worker``: the whole worker (its process group), as a lost machine; its task comes back after the
    visibility timeout. ``pool_process``: only the pool process drafting, as the OOM killer would; the worker
    gives the task back at once (``task_reject_on_worker_lost``) and starts another pool process."""
    seed_customers(deployment.factory, deployment.workspace, 200, "K")
    # Slow until a victim is chosen: at LATENCY_MS the first worker up can draft all 200 customers before the
    # second has started (seconds of CPU on a busy machine), and there is then nobody left to kill mid-campaign.
    deployment.server.configure(latency_ms=5000)
    started = time.monotonic()
    campaign_id = post_campaign(deployment.client, deployment.key, "K")

    def victim_busy() -> tuple[Worker, set[int]] | None:
        """Both workers hold customers, and one has model requests out for some of its own."""
        progress = deployment.client.get(f"/v1/campaigns/{campaign_id}", headers=auth(deployment.key)).json()
        assert progress["status"] in ("queued", "running"), f"the campaign ended before a worker was killed: {progress}"
        if progress["progress"]["done"] < 40:
            return None
        by_worker: dict[str, tuple[Worker, set[int], list[tuple[str, str]]]] = {}
        for pid, name, channel in _leases(deployment, campaign_id):
            with contextlib.suppress(FileNotFoundError, StopIteration):  # a pool process that just ended
                worker = _worker_of(deployment.cluster, pid)
                entry = by_worker.setdefault(worker.name, (worker, set(), []))
                entry[1].add(pid)
                entry[2].append((name, channel))
        if len(by_worker) < 2:
            return None
        stats = deployment.server.stats()
        for worker, pids, held in by_worker.values():
            if requested(stats, held):
                return worker, pids
        return None

    victim, pids = deployment.cluster.poll(victim_busy, timeout=600, what="a worker drafting its customers")
    if victim_kind == "worker":
        victim.kill()
    else:
        for pid in pids - {victim.pid}:
            os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic() - started
    deployment.server.configure(latency_ms=LATENCY_MS)
    # What the dead worker held stays leased to it until the lease expires (seconds from now).
    held = [(name, channel) for pid, name, channel in _leases(deployment, campaign_id) if pid in pids]
    assert held, "the killed worker held nothing"
    out = deployment.wait(campaign_id)
    seconds = time.monotonic() - started
    check = check_campaign(deployment.factory, campaign_id)
    assert check.statuses == {"done": 400}, (check, deployment.cluster.tails())
    assert check.drafts == 400
    stats = deployment.server.stats()
    wasted = check_model_requests(stats, check, lost=held)
    assert 0 < wasted <= 3 * len(held)  # the dead worker's calls (with re-asks) for what it held, nothing else
    assert out["progress"]["model_calls"] == check.model_calls
    report_measured(
        f"sigkill-{victim_kind}", seconds, check, stats, killed_at_s=round(killed_at, 1), held=len(held), wasted=wasted
    )


def test_a_429_storm_slows_the_workers_down_but_loses_nothing(deployment: Deployment) -> None:
    seed_customers(deployment.factory, deployment.workspace, 200, "S")
    # Fewer requests in flight than the two workers' throttles allow (429s of their own), and a storm of 429s
    # for everyone once the campaign is under way.
    deployment.server.configure(max_concurrency=24, retry_after_s=0.5)
    started = time.monotonic()
    campaign_id = post_campaign(deployment.client, deployment.key, "S")
    deployment.cluster.poll(lambda: deployment.server.stats()["answered"] >= 60, timeout=600, what="60 answers")
    deployment.server.configure(storm_s=6.0)
    deployment.wait(campaign_id)
    seconds = time.monotonic() - started
    check = check_campaign(deployment.factory, campaign_id)
    assert check.statuses == {"done": 400}, check
    stats = deployment.server.stats()
    assert stats["rate_limited_by_reason"].get("storm", 0) > 0, stats["rate_limited_by_reason"]
    assert check_model_requests(stats, check) == 0
    report_measured("storm", seconds, check, stats, by_reason=stats["rate_limited_by_reason"])


def test_every_malformed_answer_fails_only_its_channel_on_the_workers(deployment: Deployment) -> None:
    ids = seed_customers(deployment.factory, deployment.workspace, 10, "M")
    broken = break_sms_answers(deployment.factory, deployment.server, ids)
    campaign_id, _, seconds = deployment.run("M")
    check = check_campaign(deployment.factory, campaign_id)
    assert check.statuses == {"done": 20 - len(MALFORMED), "failed": len(MALFORMED)}, check
    assert check.reasons == {"model_invalid_output": len(MALFORMED)}, check
    assert failed_targets(deployment.factory, campaign_id) == {(n, "sms") for n in broken}  # their email is kept
    stats = deployment.server.stats()
    assert stats["faults"] and set(stats["faults"]) == set(MALFORMED), stats["faults"]
    assert check_model_requests(stats, check) == 0
    report_measured("malformed", seconds, check, stats, faults=stats["faults"])
