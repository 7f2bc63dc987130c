"""A minimal HTTP/1.1 server on asyncio streams: keep-alive, Content-Length and chunked request bodies.

Written by hand rather than on uvicorn so that the server sees what a hosted model's front end sees and can
misbehave the way one does: it counts TCP connections (to prove that clients pool them), can reset a
connection (RST, not a polite close) or hold a request open until the client gives up.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["Connections", "Hang", "Request", "Reset", "Response", "serve"]

_MAX_HEAD = 64 * 1024
_MAX_BODY = 32 * 1024 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class Hang:
    """Answer nothing: keep the request open until the client closes the connection (or ``max_s`` passes)."""

    def __init__(self, max_s: float, done: Callable[[], None] | None = None) -> None:
        self.max_s = max_s
        self.done = done  # called when the hang ends (the request stops being in flight)


class Reset:
    """Drop the connection with a TCP reset instead of answering."""


Handler = Callable[[Request], Awaitable[Response | Hang | Reset]]


class Connections:
    """Connection counters, updated by the server."""

    def __init__(self) -> None:
        self.opened = 0  # connections that carried a /v1/ request
        self.accepted = 0  # every connection, control ones included
        self.open_now = 0


class _BadRequest(Exception):
    pass


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _BadRequest("incomplete request head") from exc
        return None  # the client closed an idle keep-alive connection
    except asyncio.LimitOverrunError as exc:
        raise _BadRequest("request head too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest("bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest("bad header line")
        headers[name.strip().lower()] = value.strip()
    if parts[2] == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive":
        headers["connection"] = "close"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        length = int(headers.get("content-length", "0") or "0")
        if length < 0 or length > _MAX_BODY:
            raise _BadRequest("bad content-length")
        body = await reader.readexactly(length) if length else b""
    return Request(parts[0].upper(), parts[1], headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(chunks)
        total += size
        if total > _MAX_BODY:
            raise _BadRequest("body too large")
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _encode(resp: Response, keep_alive: bool) -> bytes:
    lines = [
        f"HTTP/1.1 {resp.status} {_REASONS.get(resp.status, 'Status')}",
        f"content-type: {resp.content_type}",
        f"content-length: {len(resp.body)}",
        f"connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    lines += [f"{k}: {v}" for k, v in resp.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + resp.body


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _hang(reader: asyncio.StreamReader, max_s: float) -> None:
    """Wait until the client closes its side (it timed out) or ``max_s`` passes."""
    with contextlib.suppress(TimeoutError, ConnectionError, OSError):
        async with asyncio.timeout(max_s):
            while await reader.read(65536):
                pass


async def serve(handler: Handler, host: str, port: int, connections: Connections) -> asyncio.Server:
    """Start serving ``handler``; the returned server is already listening."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.accepted += 1
        connections.open_now += 1
        model_client = False
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    request = await _read_request(reader)
                except _BadRequest as exc:
                    writer.write(_encode(Response(400, f'{{"error": {{"message": "{exc}"}}}}'.encode()), False))
                    break
                if request is None:
                    break
                if not model_client and request.path.startswith("/v1/"):
                    model_client = True  # control requests (/_stats, ...) do not count as a model client's
                    connections.opened += 1
                outcome = await handler(request)
                if isinstance(outcome, Reset):
                    _reset(writer)
                    return
                if isinstance(outcome, Hang):
                    try:
                        await _hang(reader, outcome.max_s)
                    finally:
                        if outcome.done is not None:
                            outcome.done()
                    break
                keep_alive = request.headers.get("connection", "").lower() != "close"
                writer.write(_encode(outcome, keep_alive))
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            connections.open_now -= 1
            with contextlib.suppress(Exception):
                writer.close()

    return await asyncio.start_server(on_connection, host, port, limit=_MAX_HEAD, backlog=1024)
