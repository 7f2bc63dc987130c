"""Stored vectors read back by id are kept in the process, and dropped when this process re-indexes them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from copyloom.retrieval.store import VectorStore


def _counting(vector_store: VectorStore, workspace: str) -> list[list[str]]:
    """Record the ids of every ``get`` that reaches Chroma."""
    calls: list[list[str]] = []
    collection = vector_store.collection(workspace)
    original = collection.get

    def get(*args: Any, **kwargs: Any) -> Any:
        calls.append(list(kwargs.get("ids") or []))
        return original(*args, **kwargs)

    collection.get = get
    return calls


def _index_two(vector_store: VectorStore) -> None:
    vector_store.upsert(
        "acme",
        ["a", "b"],
        [[1.0, 0, 0], [0, 1.0, 0]],
        ["doc a", "doc b"],
        [{"kind": "knowledge"}, {"kind": "knowledge"}],
    )


def test_vectors_come_from_chroma_once_then_from_memory(vector_store: VectorStore) -> None:
    _index_two(vector_store)
    calls = _counting(vector_store, "acme")
    first = vector_store.get_embeddings("acme", ["a", "b", "missing"])
    second = vector_store.get_embeddings("acme", ["b", "a"])
    assert set(first) == {"a", "b"} and set(second) == {"a", "b"}
    assert np.allclose(second["a"], [1.0, 0, 0])
    assert calls == [["a", "b", "missing"]]  # the second read never reached Chroma
    with pytest.raises(ValueError):
        second["a"] *= 2  # shared between callers: read-only


def test_reindexing_or_deleting_in_this_process_drops_the_kept_vector(vector_store: VectorStore) -> None:
    _index_two(vector_store)
    vector_store.get_embeddings("acme", ["a", "b"])
    vector_store.upsert("acme", ["a"], [[0, 0, 1.0]], ["doc a, edited"], [{"kind": "knowledge"}])
    vector_store.delete("acme", ["b"])
    got = vector_store.get_embeddings("acme", ["a", "b"])
    assert set(got) == {"a"} and np.allclose(got["a"], [0, 0, 1.0])


def test_kept_vectors_expire(vector_store: VectorStore) -> None:
    vector_store.upsert("acme", ["a"], [[1.0, 0, 0]], ["doc a"], [{"kind": "knowledge"}])
    vector_store.get_embeddings("acme", ["a"])
    calls = _counting(vector_store, "acme")
    vector_store._vectors.ttl_s = 0.0  # another process may have re-indexed it meanwhile
    vector_store.get_embeddings("acme", ["a"])
    assert calls == [["a"]]
