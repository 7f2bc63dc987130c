"""The one reader of untrusted JSON: strict (no NaN or Infinity, no lone surrogates, valid UTF-8), nested at most
``MAX_DEPTH`` deep, numbers that fit a double (a 5,000-digit integer is not one), and errors that name the line and column.

The API checks every JSON request body with :func:`check_json` before a route parses it (a body nested 50,000
deep would otherwise exhaust Python's recursion limit, and NaN in an attribute would be stored and later refused
by PostgreSQL); readers of JSON that the edge did not see as such (gzip-compressed Segment batches, NDJSON lines,
import files) call :func:`loads`.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from copyloom.errors import InvalidInput

MAX_DEPTH = 32

_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
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
    what = "the body is nested too deep" if code == "json_too_deep" else "the body is not valid JSON"
    return InvalidInput(
        f"{what} at line {line}, column {column}: {message}",
        code=code,
        field="body",
        details={"line": line, "column": column},
    )


def check_depth(raw: bytes, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`InvalidInput` (``json_too_deep``) if arrays and objects nest deeper than ``limit``."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return  # the common case: too few brackets to nest that deep, no scan needed
    depth = 0
    for match in _TOKENS.finditer(raw):
        token = raw[match.start()]
        if token in b"[{":
            depth += 1
            if depth > limit:
                raise json_error(f"nested more than {limit} deep", raw, match.start(), code="json_too_deep")
        elif token in b"]}":
            depth -= 1


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse untrusted JSON strictly; :class:`InvalidInput` (422, field "body") names the line and column."""
    data = raw.encode("utf-8", errors="surrogatepass") if isinstance(raw, str) else raw
    check_depth(data, max_depth)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise json_error(_ORJSON_POSITION.sub("", exc.msg), data, exc.pos) from exc
    return value


def check_json(raw: bytes, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`InvalidInput` unless ``raw`` is JSON that :func:`loads` accepts."""
    loads(raw, max_depth=max_depth)
