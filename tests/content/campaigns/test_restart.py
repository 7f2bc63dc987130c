"""Kill a campaign worker mid-way (SIGKILL) and start another: no finished draft lost, none duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.config import Settings
from copyloom.content.campaigns.schemas import CampaignCreate
from copyloom.content.engine import build_content_engine
from copyloom.db import make_engine, make_session_factory, upgrade, write
from copyloom.domain.demo import load_demo
from copyloom.domain.workspaces import create_workspace
from copyloom.models import CampaignTarget, Consent, Customer, Draft
from copyloom.retrieval.indexer import index_workspace

pytestmark = pytest.mark.slow
VARIANTS = 2


def _seed(factory: sessionmaker[Session], n: int) -> None:
    with write(factory) as s:
        create_workspace(s, "acme")
        load_demo(s, "acme")
        s.flush()
        for i in range(n):
            c = Customer(
                workspace_id="acme",
                external_id=f"X{i:04d}",
                name=f"Test Person {i}",
                locale="en",
                time_zone="UTC",
                country="US",
                attributes={"wave": "restart"},
            )
            s.add(c)
            s.flush()
            for purpose in ("marketing", "personalization"):
                s.add(
                    Consent(
                        workspace_id="acme",
                        customer_id=c.id,
                        purpose=purpose,
                        channel="email",
                        status="granted",
                        recorded_at=c.created_at,
                        source="test",
                    )
                )


def _counts(factory: sessionmaker[Session], campaign_id: str) -> tuple[int, int, int]:
    with write(factory) as s:
        done = (
            s.scalar(
                select(func.count())
                .select_from(CampaignTarget)
                .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status == "done")
            )
            or 0
        )
        pending = (
            s.scalar(
                select(func.count())
                .select_from(CampaignTarget)
                .where(CampaignTarget.campaign_id == campaign_id, CampaignTarget.status.in_(("pending", "leased")))
            )
            or 0
        )
        drafts = s.scalar(select(func.count()).select_from(Draft).where(Draft.campaign_id == campaign_id)) or 0
    return done, pending, drafts


def _worker(data_dir: Path, campaign_id: str, rate: float | None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYLOOM_")}
    env["COPYLOOM_DATA_DIR"] = str(data_dir)
    env["COPYLOOM_CAMPAIGN_LEASE_S"] = "3"  # the killed worker's chunk goes back to the queue 3 s after its death
    if rate:
        env["COPYLOOM_CAMPAIGN_MAX_TARGETS_PER_S"] = str(rate)
    cli = [
        sys.executable,
        "-c",
        "from copyloom.cli import main; main()",
        "campaigns",
        "run",
        campaign_id,
        "--no-progress",
    ]
    return subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_killed_campaign_resumes_without_loss_or_duplicates(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    _seed(factory, 60)
    content = build_content_engine(settings)
    with write(factory) as s:
        index_workspace(s, content.store, content.embedder, "acme")
    body = CampaignCreate.model_validate(
        {
            "name": "restart",
            "brief": {"goal": "cross_sell"},
            "channels": ["email"],
            "variants": VARIANTS,
            "audience": {"filter": {"attributes": {"wave": "restart"}}},
            "approval": {"mode": "all"},
        }
    )
    with write(factory) as s:
        from copyloom.content.campaigns.service import create_campaign

        campaign_id = create_campaign(s, content, "acme", body).id
    content.close()  # the workers below are processes of their own

    first = _worker(settings.data_dir, campaign_id, rate=15)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _counts(factory, campaign_id)[0] < 8:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)  # reaps it and closes its pipes
    done, pending, drafts = _counts(factory, campaign_id)
    assert 8 <= done < 60 and pending > 0, "the worker must be killed mid-way"
    assert drafts == done * VARIANTS  # every finished target has all its drafts; no half-finished target

    second = _worker(settings.data_dir, campaign_id, rate=None)
    _out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()
    done, pending, drafts = _counts(factory, campaign_id)
    assert pending == 0 and done == 60 and drafts == 60 * VARIANTS
    with write(factory) as s:
        dupes = s.execute(
            select(Draft.customer_id, Draft.channel, Draft.variant_index, func.count())
            .where(Draft.campaign_id == campaign_id)
            .group_by(Draft.customer_id, Draft.channel, Draft.variant_index)
            .having(func.count() > 1)
        ).all()
    assert dupes == []
    engine.dispose()
