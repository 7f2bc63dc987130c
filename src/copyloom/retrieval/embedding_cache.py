"""Embeddings cached by content: re-indexing unchanged text, or asking the same brief twice, costs nothing.

The cache is its own SQLite file (``<data_dir>/embeddings-cache.sqlite``, stdlib ``sqlite3``), not a table of the
main database: it is a pure cache, safe to delete, and must not need migrations or PostgreSQL. Keys are
sha256(embedder name, kind, text), so two models never share vectors. Query embeddings are also kept in an
in-memory LRU, because a brief's text repeats across a whole campaign.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from copyloom.retrieval.embeddings import Embedder

__all__ = ["CachedEmbedder", "EmbeddingCache", "cache_key"]

_SCHEMA = "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, dim INTEGER NOT NULL, vec BLOB NOT NULL)"
_CHUNK = 500  # SQLite's default limit on host parameters is 999 on old builds


def cache_key(embedder_name: str, kind: str, text: str) -> str:
    return hashlib.sha256(f"{embedder_name}\x00{kind}\x00{text}".encode()).hexdigest()


def _f32(vec: list[float]) -> list[float]:
    # what the cache stores: a fresh vector must equal the same vector read back later
    return np.asarray(vec, dtype=np.float32).tolist()  # type: ignore[no-any-return]


class EmbeddingCache:
    """A key → float32 vector store in one SQLite file (``":memory:"`` for tests)."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        with self._lock:
            for start in range(0, len(keys), _CHUNK):
                chunk = list(keys[start : start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(f"SELECT key, vec FROM embeddings WHERE key IN ({marks})", chunk)
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32).tolist()
        return found

    def put_many(self, items: dict[str, list[float]]) -> None:
        rows = [(k, len(v), np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()]
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR REPLACE INTO embeddings (key, dim, vec) VALUES (?, ?, ?)", rows)
            self._conn.execute("COMMIT")

    def __len__(self) -> int:
        with self._lock:
            (n,) = self._conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()
        return int(n)

    def close(self) -> None:
        self._conn.close()


class CachedEmbedder:
    """An ``Embedder`` that asks the wrapped one only for texts it has never seen. Counts misses for reports."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache, *, query_lru_size: int = 1024) -> None:
        self.inner = inner
        self.cache = cache
        self._lru: OrderedDict[str, list[float]] = OrderedDict()
        self._lru_size = query_lru_size
        self._lru_lock = threading.Lock()
        self.misses = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_query(self, text: str) -> list[float]:
        with self._lru_lock:
            hit = self._lru.get(text)
            if hit is not None:
                self._lru.move_to_end(text)
                return hit
        key = cache_key(self.name, "query", text)
        vec = self.cache.get_many([key]).get(key)
        if vec is None:
            vec = _f32(self.inner.embed_query(text))
            self.misses += 1
            self.cache.put_many({key: vec})
        with self._lru_lock:
            self._lru[text] = vec
            if len(self._lru) > self._lru_size:
                self._lru.popitem(last=False)
        return vec

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        keys = [cache_key(self.name, "passage", t) for t in texts]
        found = self.cache.get_many(keys)
        missing = sorted({i for i, k in enumerate(keys) if k not in found}, key=lambda i: keys[i])
        todo: dict[str, str] = {}
        for i in missing:
            todo.setdefault(keys[i], texts[i])
        if todo:
            vectors = self.inner.embed_passages(list(todo.values()))
            self.misses += len(todo)
            fresh = {k: _f32(v) for k, v in zip(todo.keys(), vectors, strict=True)}
            self.cache.put_many(fresh)
            found.update(fresh)
        return [found[k] for k in keys]
