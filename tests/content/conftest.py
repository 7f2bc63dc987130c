"""A content engine on the demo workspace: local Chroma, a fast deterministic embedder, the offline generator."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.services import Services
from copyloom.content.engine import ContentEngine
from copyloom.db import session_scope
from copyloom.genai.factory import build_generator
from copyloom.genai.tokens import get_token_counter
from copyloom.genai.types import GenerationRequest, GenerationResult, Generator, RefineRequest
from copyloom.retrieval.indexer import index_workspace
from copyloom.retrieval.store import VectorStore, make_chroma_client
from tests.retrieval.conftest import HashEmbedder


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
def content_engine(
    services: Services, session_factory: sessionmaker[Session], demo_workspace: str, tmp_path: Path
) -> Iterator[ContentEngine]:
    embedder = HashEmbedder()
    store = VectorStore(make_chroma_client(services.settings), embedder)
    engine = ContentEngine(
        settings=services.settings,
        store=store,
        embedder=embedder,
        generator=build_generator(services.settings),
        token_counter=get_token_counter(None),
    )
    with session_scope(session_factory) as session:
        index_workspace(session, store, embedder, demo_workspace)
    services.content = engine
    yield engine
    if services.runner is not None:
        services.runner.shutdown()
