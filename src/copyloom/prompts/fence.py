"""Data fences: customer-written text enters a prompt only between per-request random delimiters.

The system prompt tells the model that anything between ``<data-TOKEN>`` and ``</data-TOKEN>`` is data and
never instructions ("spotlighting"). The token is fresh for every request (``secrets.token_hex``), and any
occurrence of it inside the data is removed, so the data cannot close its own fence. Invisible characters
(Unicode Cf/Co/Cn, which includes tag characters) are stripped and each value is capped in length.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from copyloom.contracts.untrusted import sanitize_untrusted as _sanitize

__all__ = ["DataFence", "sanitize_untrusted"]

MAX_UNTRUSTED_CHARS = 500


def sanitize_untrusted(text: str, max_chars: int = MAX_UNTRUSTED_CHARS) -> str:
    """The shared hygiene (``copyloom.contracts.untrusted``) with the fence's default cap."""
    return _sanitize(text, max_chars)


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
