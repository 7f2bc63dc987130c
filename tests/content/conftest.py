"""Content fixtures: a slow generator and approved campaigns (the engine itself is in the root conftest)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.services import Services
from copyloom.content.engine import ContentEngine
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.genai.types import GenerationRequest, GenerationResult, Generator, RefineRequest
from copyloom.models import Draft
from tests.conftest import auth


class SlowGenerator:
    """Wraps a generator and waits first: a model slower than the journey's deadline."""

    def __init__(self, inner: Generator, delay_s: float) -> None:
        self.inner = inner
        self.delay_s = delay_s
        self.calls = 0

    @property
    def kind(self) -> str:
        return self.inner.kind

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        return await self.inner.generate(request)

    async def refine(self, request: RefineRequest) -> GenerationResult:
        return await self.inner.refine(request)


@pytest.fixture
def approved_campaign(
    client: TestClient,
    keys: dict[Role, str],
    services: Services,
    content_engine: ContentEngine,
    session_factory: sessionmaker[Session],
) -> Callable[..., str]:
    """Create a campaign through the API, let it generate, approve every draft that is not blocked (a reviewer
    would; the review queue has its own tests), and return its id."""

    def make(customers: list[str], channels: list[str], *, variants: int = 1, **body: Any) -> str:
        payload = {
            "name": "test",
            "brief": {"goal": "cross_sell"},
            "channels": channels,
            "audience": {"customer_ids": customers},
            "variants": variants,
            "approval": {"mode": "all"},
        } | body
        r = client.post("/v1/campaigns", json=payload, headers=auth(keys[Role.MARKETER]))
        assert r.status_code == 202, r.text
        services.task_runner().wait(timeout=60)
        with write(session_factory) as s:
            for d in s.scalars(select(Draft).where(Draft.campaign_id == r.json()["id"], Draft.verdict != "block")):
                d.status = "approved"
        return str(r.json()["id"])

    return make
