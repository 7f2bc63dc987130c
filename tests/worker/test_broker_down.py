"""A broker that does not answer: the campaign is stored and stays queued, the client gets a 503 with a code."""

from __future__ import annotations

import socket
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.app import create_app
from copyloom.api.services import Services
from copyloom.config import Settings
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.models import Campaign, Customer
from tests.conftest import auth


def test_campaign_with_the_broker_down_answers_503_and_stays_queued(
    settings: Settings,
    engine: Engine,
    session_factory: sessionmaker[Session],
    content_engine: Any,
    keys: dict[Role, str],
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = settings.model_copy(update={"broker_url": SecretStr(f"redis://127.0.0.1:{port}/0")})
    services = Services(settings=down, engine=engine, session_factory=session_factory, content=content_engine)
    with write(session_factory) as session:
        customers = list(session.scalars(select(Customer.external_id).limit(2)))
    body = {
        "name": "x",
        "brief": {"goal": "cross_sell"},
        "channels": ["email"],
        "audience": {"customer_ids": customers},
    }
    with TestClient(create_app(down, services)) as client:
        r = client.post("/v1/campaigns", json=body, headers=auth(keys[Role.MARKETER]))
    services.close()
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "broker_unavailable"
    with write(session_factory) as session:
        # Committed before it was sent: the API submits it again when it starts (resume_unfinished).
        assert list(session.scalars(select(Campaign.status))) == ["queued"]
