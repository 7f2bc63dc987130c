"""Shutting down closes the generator's HTTP sessions: the app's lifespan (drafts on the server's loop, a campaign
on the background loop) leaves no connection to the model server and no "Unclosed" report, and a CLI campaign
run prints none at exit. Against the model server of ``tests.modelserver``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.app import create_app
from copyloom.config import Settings
from copyloom.content.campaigns.schemas import CampaignCreate
from copyloom.content.campaigns.service import create_campaign
from copyloom.content.engine import build_content_engine
from copyloom.contracts.enums import Role
from copyloom.db import read, write
from copyloom.domain.demo import load_demo
from copyloom.domain.workspaces import create_workspace
from copyloom.models import CampaignTarget
from tests.conftest import auth, make_keys
from tests.genai.sockets import HAS_PROC, connections_to, unclosed_reports
from tests.model_path import post_campaign, seed_customers, wait_campaign
from tests.modelserver import ModelServer, start_model_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_PROC, reason="counts this process's sockets through /proc (Linux)"),
]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def model_server() -> Iterator[ModelServer]:
    with start_model_server(latency_ms=0, seed=11) as server:
        yield server


@pytest.fixture
def acme(session_factory: sessionmaker[Session]) -> list[str]:
    with write(session_factory) as s:
        create_workspace(s, "acme", "Acme Outdoor")
        load_demo(s, "acme")
    return seed_customers(session_factory, "acme", 3, "S")


def test_app_shutdown_leaves_no_connection_to_the_model_server(
    settings: Settings, session_factory: sessionmaker[Session], acme: list[str], model_server: ModelServer
) -> None:
    mine = settings.model_copy(
        update={
            "llm_model": "openai:gpt-4o-mini",
            "llm_base_url": model_server.base_url,
            "llm_api_key": SecretStr("sk-test"),
            "llm_timeout_s": 20.0,
        }
    )
    key = make_keys(session_factory, "acme")[Role.MARKETER]
    before = connections_to(model_server.port)
    with unclosed_reports() as reports:
        with TestClient(create_app(mine)) as client:  # the lifespan builds the services, and closes them
            r = client.post(
                "/v1/drafts",
                json={"customer_id": acme[0], "channels": ["email"], "brief": {"goal": "cross_sell"}},
                headers=auth(key),
            )
            assert r.status_code == 201, r.text
            assert r.json()["drafts"][0]["generator"]["kind"] == "llm"
            body = wait_campaign(client, key, post_campaign(client, key, "S"), 300)  # on the background loop
            assert body["status"] == "completed" and body["progress"]["failed"] == 0, body
            # Kept alive for the next call: the server loop's and the background loop's.
            assert connections_to(model_server.port) >= before + 2
        assert connections_to(model_server.port) == before
    assert reports == []


def test_a_cli_campaign_run_prints_no_unclosed_report(
    settings: Settings, session_factory: sessionmaker[Session], acme: list[str], model_server: ModelServer
) -> None:
    content = build_content_engine(settings)  # offline: the control drafts of a new campaign
    body = CampaignCreate.model_validate(
        {
            "name": "cli",
            "brief": {"goal": "cross_sell"},
            "channels": ["email", "sms"],
            "variants": 1,
            "audience": {"filter": {"attributes": {"wave": "S"}}},
            "approval": {"mode": "all"},
        }
    )
    with write(session_factory) as s:
        campaign_id = create_campaign(s, content, "acme", body).id
    content.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYLOOM_") or k.startswith("COPYLOOM_TEST_")}
    env.update(
        COPYLOOM_DATA_DIR=str(settings.data_dir),
        COPYLOOM_LLM_MODEL="openai:gpt-4o-mini",
        COPYLOOM_LLM_BASE_URL=model_server.base_url,
        COPYLOOM_LLM_API_KEY="sk-test",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    cli = [sys.executable, "-W", "always::ResourceWarning", "-c", "from copyloom.cli import main; main()"]
    run = subprocess.run(
        [*cli, "campaigns", "run", campaign_id, "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    with read(session_factory) as s:
        statuses = s.scalars(select(CampaignTarget.status).where(CampaignTarget.campaign_id == campaign_id)).all()
    assert statuses == ["done"] * 6
    assert "nclosed" not in run.stderr, run.stderr[-3000:]
