"""The one reader of untrusted JSON: strict (no NaN or Infinity, no lone surrogates, valid UTF-8), nested at most
``MAX_DEPTH`` deep, numbers that fit a double (a 5,000-digit integer is not one), and errors that name the line
and column.

NUL (``\\u0000``) is refused too: PostgreSQL stores it in no text or JSON column.

The API checks every JSON request body with :func:`check_json` before a route parses it (a body nested 50,000
deep would otherwise exhaust Python's recursion limit, and NaN in an attribute would be stored and later refused
by PostgreSQL); readers that parse JSON themselves (Segment batches, NDJSON lines, import files and their JSON
cells) call :func:`loads`.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from copyloom.errors import InvalidInput

MAX_DEPTH = 32

_BRACKET = np.zeros(256, dtype=bool)
_BRACKET[list(b"[]{}")] = True
_OPENING = np.zeros(256, dtype=bool)
_OPENING[list(b"[{")] = True
_ORJSON_POSITION = re.compile(r": line \d+ column \d+ \(char \d+\)$")


def position(doc: bytes | str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset, counted as Python's json module counts them."""
    newline: Any = b"\n" if isinstance(doc, bytes) else "\n"
    line = doc.count(newline, 0, offset) + 1
    return line, offset - doc.rfind(newline, 0, offset)


def json_error(message: str, doc: bytes | str, offset: int, *, code: str = "invalid_json") -> InvalidInput:
    """422 naming where the body went wrong: ``field`` is "body", the line and column are in the message and
    ``details``."""
    line, column = position(doc, offset)
    what = {"json_too_deep": "the body is nested too deep", "nul_character": "the body cannot be stored"}.get(
        code, "the body is not valid JSON"
    )
    return InvalidInput(
        f"{what} at line {line}, column {column}: {message}",
        code=code,
        field="body",
        details={"line": line, "column": column},
    )


def _backslashes_before(raw: bytes, offset: int) -> int:
    count = 0
    while offset - count > 0 and raw[offset - count - 1] == ord("\\"):
        count += 1
    return count


def _real_quotes(raw: bytes, codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    """Offsets of the quotes that open or close strings (a quote after an odd run of backslashes is escaped)."""
    quotes = np.flatnonzero(codes == ord('"'))
    maybe_escaped = quotes[(quotes > 0) & (codes[quotes - 1] == ord("\\"))]
    escaped = [q for q in maybe_escaped.tolist() if _backslashes_before(raw, q) % 2 == 1]
    return np.setdiff1d(quotes, escaped, assume_unique=True) if escaped else quotes


def first_too_deep(raw: bytes, limit: int = MAX_DEPTH) -> int | None:
    """Offset of the first bracket that opens level ``limit + 1`` (brackets inside strings do not count), or
    None. Vectorized: about as fast as parsing the body, with memory for the quotes and brackets only."""
    codes = np.frombuffer(raw, dtype=np.uint8)
    brackets = np.flatnonzero(_BRACKET[codes])
    if brackets.size <= limit:
        return None
    quotes = _real_quotes(raw, codes)
    outside = brackets[(np.searchsorted(quotes, brackets) & 1) == 0]  # an even number of quotes before it
    depth = np.cumsum(np.where(_OPENING[codes[outside]], 1, -1))
    over = np.flatnonzero(depth > limit)
    return int(outside[over[0]]) if over.size else None


def check_depth(raw: bytes, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`InvalidInput` (``json_too_deep``) if arrays and objects nest deeper than ``limit``."""
    offset = first_too_deep(raw, limit)
    if offset is not None:
        raise json_error(f"nested more than {limit} deep", raw, offset, code="json_too_deep")


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse untrusted JSON strictly; :class:`InvalidInput` (422, field "body") names the line and column."""
    data = raw.encode("utf-8", errors="surrogatepass") if isinstance(raw, str) else raw
    check_depth(data, max_depth)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise json_error(_ORJSON_POSITION.sub("", exc.msg), data, exc.pos) from exc
    nul = _nul_escape(data)
    if nul is not None:
        raise json_error("a string holds the NUL character (\\u0000), which no text field can store", data, nul,
                         code="nul_character")  # fmt: skip
    return value


def _nul_escape(data: bytes) -> int | None:
    """Offset of the first ``\\u0000`` escape in a JSON document (PostgreSQL stores no NUL in text or JSON)."""
    start = data.find(b"\\u0000")
    while start != -1:
        if _backslashes_before(data, start) % 2 == 0:  # an escape, not the text "\\u0000" after an escaped backslash
            return start
        start = data.find(b"\\u0000", start + 1)
    return None


def check_json(raw: bytes, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`InvalidInput` unless ``raw`` is JSON that :func:`loads` accepts."""
    loads(raw, max_depth=max_depth)
