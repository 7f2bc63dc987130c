"""An index of customers' identifiers (names, emails, phone numbers) for the leakage check.

A workspace can hold hundreds of thousands of customers; scanning a draft for each of their names would cost
milliseconds per draft. The index maps a cheap key (a name's first word, a CJK name's first two characters (or
first one, when the second is not CJK), a whole email address, a phone number's digits) to identifiers, so a draft is checked only against the few
identifiers that share a key with its text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2}")
_MIN_PHONE_DIGITS = 7


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _key(identifier: str) -> str | None:
    ident = identifier.strip().lower()
    if not ident:
        return None
    if "@" in ident:
        return ident
    digits = re.sub(r"\D", "", ident)
    if len(digits) >= _MIN_PHONE_DIGITS and not any(c.isalpha() for c in ident):
        return "#" + digits
    if _is_cjk(ident[0]):
        return ident[:2] if len(ident) >= 2 and _is_cjk(ident[1]) else ident[0]
    words = _WORD.findall(ident)
    return words[0] if words else None


class IdentifierIndex:
    """Identifiers by owner (customer pk), looked up by the keys found in a text."""

    def __init__(self, identifiers: Mapping[int, Iterable[str]]) -> None:
        # key -> (owner, identifier, its lower case when it is ASCII with letters: a name or an email, which an
        # ASCII text holds, case aside, or cannot match; else None)
        self._by_key: dict[str, list[tuple[int, str, str | None]]] = {}
        self._phone_lengths: set[int] = set()
        for owner, idents in identifiers.items():
            for ident in idents:
                key = _key(ident)
                if key is None:
                    continue
                low = ident.strip().lower()
                sure = low if ident.isascii() and low != low.upper() else None
                self._by_key.setdefault(key, []).append((owner, ident, sure))
                if key.startswith("#"):
                    self._phone_lengths.add(len(key) - 1)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def candidates(self, text: str, exclude_owner: int | None) -> list[str]:
        """Identifiers of owners other than ``exclude_owner`` that may occur in ``text`` (a superset: a pattern
        match decides). In an ASCII text, an ASCII name or email is kept only when the text holds it, case aside (a
        pattern that ignores case matches nothing else there)."""
        lowered = text.lower()
        keys: set[str] = set(_WORD.findall(lowered)) | set(_EMAIL.findall(lowered))
        if not lowered.isascii():  # an ASCII text has no CJK key: skip its per-character scans
            keys |= {m.group(0) for i in range(len(lowered)) if (m := _CJK.match(lowered, i))}
            keys |= {ch for ch in lowered if _is_cjk(ch)}
        digits = re.sub(r"\D", "", lowered)
        for n in self._phone_lengths:
            keys |= {"#" + digits[i : i + n] for i in range(len(digits) - n + 1)}
        out: list[str] = []
        if lowered.isascii():
            # A first name shared by thousands ("sam") would bring every "Sam …": keep those the text holds.
            for key in keys:
                out += [
                    ident
                    for owner, ident, low in self._by_key.get(key, ())
                    if owner != exclude_owner and (low is None or low in lowered)
                ]
            return out
        for key in keys:
            out += [ident for owner, ident, _ in self._by_key.get(key, ()) if owner != exclude_owner]
        return out
