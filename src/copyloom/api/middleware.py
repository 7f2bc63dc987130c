"""Pure-ASGI middleware: request ids, the body size limit (enforced while streaming, not only on headers) and the
one check of input at the edge (NUL in URLs; JSON bodies: gzip, depth, strictness) before any route reads it."""

from __future__ import annotations

import json
import logging
import time
import uuid
import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from copyloom.domain.safe_json import check_depth, check_json
from copyloom.errors import CopyloomError, InvalidInput, PayloadTooLarge
from copyloom.logs import REQUEST_ID

log = logging.getLogger("copyloom.api.access")


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": raw})


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Answer 413 ``payload_too_large`` for bodies over ``max_bytes`` before any route reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = {
            "error": {
                "code": "payload_too_large",
                "message": f"request bodies are limited to {self.max_bytes} bytes",
            }
        }
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _send_json(send, 413, error)
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, error)


_NDJSON = (b"application/x-ndjson", b"application/ndjson", b"application/jsonl", b"application/json-lines")


def _json_kind(headers: dict[bytes, bytes]) -> str | None:
    """ "json", "ndjson" or None (not JSON)."""
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type in _NDJSON:
        return "ndjson"
    # FastAPI parses a body without a content type as JSON, so it is checked as JSON too.
    if not content_type or content_type == b"application/json" or content_type.endswith(b"+json"):
        return "json"
    return None


def _nul_in_url(scope: Scope) -> str | None:
    """ "path" or "query" when the URL carries a NUL character (PostgreSQL stores none: it would be a 500)."""
    if "\x00" in scope.get("path", ""):
        return "path"
    query = scope.get("query_string", b"")
    return "query" if b"%00" in query or b"\x00" in query else None


class InputEdgeMiddleware:
    """The one check of input at the edge, before any route reads it: no NUL in the URL; and JSON bodies.

    Inflates ``Content-Encoding: gzip`` (within ``max_bytes``; Segment's libraries compress), then answers 422 for a
    body nested deeper than ``safe_json.MAX_DEPTH`` or one that is not strict JSON (NaN, lone surrogates, numbers
    beyond a double), naming the line and column. NDJSON bodies are checked for depth here and line by line by
    their reader. Routes get the inflated body without the encoding header."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nul_in = _nul_in_url(scope)
        if nul_in is not None:
            error = {"code": "nul_character", "message": f"the {nul_in} holds a NUL character", "field": nul_in}
            await _send_json(send, 422, {"error": error})
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        kind = _json_kind(headers)
        if kind is None:
            await self.app(scope, receive, send)
            return
        encoding = headers.get(b"content-encoding", b"identity").strip().lower()
        if encoding not in (b"", b"identity", b"gzip"):
            error = {"code": "unsupported_encoding", "message": "send the body plain or gzip-compressed"}
            await _send_json(send, 415, {"error": {**error, "field": "content-encoding"}})
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        try:
            body = self._inflate(b"".join(chunks)) if encoding == b"gzip" else b"".join(chunks)
            if kind == "ndjson":
                check_depth(body)
            elif body.strip():
                check_json(body)
        except CopyloomError as exc:
            await _send_json(send, exc.status, {"error": exc.to_dict()})
            return
        if encoding == b"gzip":
            kept = [(k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")]
            scope = {**scope, "headers": [*kept, (b"content-length", str(len(body)).encode())]}
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)

    def _inflate(self, body: bytes) -> bytes:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            inflated = inflater.decompress(body, self.max_bytes + 1)
        except zlib.error as exc:
            raise InvalidInput("the body is not valid gzip", code="invalid_gzip", field="body") from exc
        if len(inflated) > self.max_bytes:
            raise PayloadTooLarge(f"request bodies are limited to {self.max_bytes} bytes uncompressed")
        return inflated


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()  # after the body: http.disconnect when the client goes away
        return {"type": "http.disconnect"}

    return receive


class RequestIdMiddleware:
    """Give every request an id (or keep the caller's ``X-Request-ID``) and log one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming[:64] if incoming else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)
            log.info(
                "api.request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
