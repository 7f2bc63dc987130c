"""Chroma as the vector index: one collection per workspace, vectors always computed by copyloom.

Measured on chromadb 1.5 (7,000 docs, 384 dims, local): an unfiltered top-20 query takes ~2 ms, the same query
with ``where={"kind": "product"}`` ~14 ms, and a where filter on one customer ~7-120 ms (Chroma pre-filters by
scanning metadata). Hence: queries here are unfiltered and over-fetch, callers keep the kinds they want; one
customer's notes are fetched by id (``get_embeddings``, ~1 ms) and scored in memory.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np
import numpy.typing as npt
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

from copyloom.config import Settings
from copyloom.contracts.cache import TTLCache
from copyloom.retrieval.embeddings import Embedder

__all__ = ["CopyloomEmbeddingFunction", "Hit", "VectorStore", "collection_name", "make_chroma_client"]

Metadata = Mapping[str, str | int | float | bool]
_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
# Stored vectors read back by id (knowledge, notes, the products a customer buys) are kept this long in the
# process: they change only when the indexer re-embeds a document, which in this process drops them at once.
VECTOR_TTL_S = 60.0
VECTOR_CACHE_MAX = 100_000


def collection_name(workspace_id: str, prefix: str = "") -> str:
    """A valid, collision-free Chroma name for a workspace: readable slug plus a hash of the exact id.

    ``prefix`` separates deployments (or test runs) sharing one Chroma server.
    """
    slug = _UNSAFE.sub("_", workspace_id)[:40]
    digest = hashlib.sha256(f"{prefix}\x00{workspace_id}".encode()).hexdigest()[:10]
    head = _UNSAFE.sub("_", prefix)[:40] + "-" if prefix else ""
    return f"{head}ws-{slug}-{digest}"


class CopyloomEmbeddingFunction(EmbeddingFunction[Documents]):
    """Lets Chroma embed with copyloom's embedder if it ever has to, so that it never loads its default model.

    copyloom passes embeddings explicitly to every add and query; this is the safety net.
    """

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return [np.asarray(v, dtype=np.float32) for v in self._embedder.embed_passages(list(input))]

    def embed_query(self, input: Documents) -> Embeddings:
        return [np.asarray(self._embedder.embed_query(t), dtype=np.float32) for t in input]

    @staticmethod
    def name() -> str:
        return "copyloom"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CopyloomEmbeddingFunction:
        raise RuntimeError(f"copyloom collections are opened by copyloom with its embedder ({config})")

    def default_space(self) -> Any:
        return "cosine"


@dataclass(frozen=True)
class Hit:
    """One search result: the document id, its metadata and a cosine similarity (1 = identical)."""

    id: str
    score: float
    metadata: dict[str, Any]


def make_chroma_client(settings: Settings) -> Any:
    """``HttpClient`` when ``settings.chroma_url`` is set, else a ``PersistentClient`` under the data directory."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    quiet = ChromaSettings(anonymized_telemetry=False)  # telemetry would try the network on every start
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        ssl = url.scheme == "https"
        port = url.port or (443 if ssl else 8000)
        return chromadb.HttpClient(host=url.hostname or "localhost", port=port, ssl=ssl, settings=quiet)
    settings.chroma_path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_path), settings=quiet)


class VectorStore:
    """Per-workspace Chroma collections holding products, brand knowledge and customer notes.

    A collection remembers the embedder that filled it (metadata ``embedder``); opening it with another embedder
    drops and recreates it, and the indexer then re-embeds everything (its hashes include the embedder name).
    """

    def __init__(self, client: Any, embedder: Embedder, *, prefix: str = "") -> None:
        self.client = client
        self.prefix = prefix
        self.embedder = embedder
        self._function = CopyloomEmbeddingFunction(embedder)
        self._collections: dict[str, Any] = {}
        self._vectors: TTLCache[tuple[str, str], npt.NDArray[np.float32]] = TTLCache(VECTOR_TTL_S, VECTOR_CACHE_MAX)

    def _forget(self, workspace_id: str, ids: Sequence[str] | None = None) -> None:
        if ids is None:
            self._vectors.invalidate_where(lambda key: key[0] == workspace_id)
        else:
            for i in ids:
                self._vectors.invalidate((workspace_id, i))

    def collection(self, workspace_id: str) -> Any:
        col = self._collections.get(workspace_id)
        if col is not None:
            return col
        name = collection_name(workspace_id, self.prefix)
        meta = {"embedder": self.embedder.name, "workspace": workspace_id}
        col = self.client.get_or_create_collection(
            name, metadata=meta, embedding_function=self._function, configuration={"hnsw": {"space": "cosine"}}
        )
        if (col.metadata or {}).get("embedder") != self.embedder.name:
            self.client.delete_collection(name)
            self._forget(workspace_id)
            col = self.client.create_collection(
                name, metadata=meta, embedding_function=self._function, configuration={"hnsw": {"space": "cosine"}}
            )
        self._collections[workspace_id] = col
        return col

    def upsert(
        self,
        workspace_id: str,
        ids: Sequence[str],
        embeddings: Sequence[Sequence[float]],
        documents: Sequence[str],
        metadatas: Sequence[Metadata],
    ) -> None:
        if not ids:
            return
        self._forget(workspace_id, ids)
        self.collection(workspace_id).upsert(
            ids=list(ids),
            embeddings=np.asarray(embeddings, dtype=np.float32),
            documents=list(documents),
            metadatas=[dict(m) for m in metadatas],
        )

    def delete(self, workspace_id: str, ids: Sequence[str]) -> None:
        if ids:
            self._forget(workspace_id, ids)
            self.collection(workspace_id).delete(ids=list(ids))

    def count(self, workspace_id: str) -> int:
        return int(self.collection(workspace_id).count())

    def get_embeddings(self, workspace_id: str, ids: Sequence[str]) -> dict[str, npt.NDArray[np.float32]]:
        """Vectors of the given documents (those that exist), by id. Never a metadata filter: see module doc.

        Read back from Chroma once per VECTOR_TTL_S and kept in the process: every draft asks for the same
        knowledge items and popular products. Documents another process re-indexes are seen within the TTL."""
        if not ids:
            return {}
        out = {i: v for (_, i), v in self._vectors.get_many((workspace_id, i) for i in ids).items()}
        missing = [i for i in dict.fromkeys(ids) if i not in out]
        if not missing:
            return out
        got = self.collection(workspace_id).get(ids=missing, include=["embeddings"])
        vectors = got["embeddings"]
        if vectors is None:
            return out
        fetched = {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], vectors, strict=True)}
        for v in fetched.values():
            v.setflags(write=False)  # shared by every caller from now on
        self._vectors.put_many({(workspace_id, i): v for i, v in fetched.items()})
        return out | fetched

    def query(self, workspace_id: str, embedding: Sequence[float], n_results: int) -> list[Hit]:
        """Nearest documents of any kind in the workspace, best first."""
        col = self.collection(workspace_id)
        res = col.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)],
            n_results=max(1, n_results),
            include=["metadatas", "distances"],
        )
        ids = res["ids"][0] if res["ids"] else []
        metas = res["metadatas"][0] if res["metadatas"] else [{} for _ in ids]
        dists = res["distances"][0] if res["distances"] else [1.0 for _ in ids]
        return [
            Hit(id=i, score=1.0 - float(d), metadata=dict(m or {})) for i, m, d in zip(ids, metas, dists, strict=True)
        ]

    def drop_workspace(self, workspace_id: str) -> None:
        self._collections.pop(workspace_id, None)
        self._forget(workspace_id)
        try:
            self.client.delete_collection(collection_name(workspace_id, self.prefix))
        except Exception:
            return
