"""Data fences: customer-written text enters a prompt only between per-request random delimiters.

The system prompt tells the model that anything between ``<data-TOKEN>`` and ``</data-TOKEN>`` is data and
never instructions ("spotlighting"). The token is fresh for every request (``secrets.token_hex``), and any
occurrence of it inside the data is removed, so the data cannot close its own fence. Invisible characters
(Unicode Cf/Co/Cn, which includes tag characters) are stripped and each value is capped in length.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field

__all__ = ["DataFence", "sanitize_untrusted"]

MAX_UNTRUSTED_CHARS = 500
_INVISIBLE = {"Cf", "Co", "Cn"}


def sanitize_untrusted(text: str, max_chars: int = MAX_UNTRUSTED_CHARS) -> str:
    """Drop invisible/unassigned characters and control characters (except newline), then cap the length."""
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in _INVISIBLE or (cat == "Cc" and ch != "\n"):
            continue
        kept.append(ch)
    cleaned = "".join(kept).strip()
    return cleaned[:max_chars]


@dataclass(frozen=True)
class DataFence:
    """One request's fence. ``open``/``close`` go into the prompt; ``wrap`` fences one piece of data."""

    token: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def open(self) -> str:
        return f"<data-{self.token}>"

    @property
    def close(self) -> str:
        return f"</data-{self.token}>"

    def clean(self, text: str) -> str:
        """Sanitize ``text`` and remove every occurrence of the token (case-insensitive) from it."""
        cleaned = sanitize_untrusted(text)
        lowered_token = self.token.lower()
        while lowered_token in cleaned.lower():
            i = cleaned.lower().index(lowered_token)
            cleaned = cleaned[:i] + cleaned[i + len(lowered_token) :]
        return cleaned

    def wrap(self, text: str) -> str:
        return f"{self.open}{self.clean(text)}{self.close}"
