"""How much load the model server takes: ``python -m tests.modelserver.loadcheck [--seconds 10] [--concurrency 32]
[--latency-ms 0]``.

Drives the server at latency 0 with copyloom's real generation requests (email and SMS, three variants, a
demo-sized facts block) from a lean keep-alive client, and prints requests/s and the server's own CPU per request
(from ``/_stats``), so that a benchmark can tell whether the server could be its bottleneck. The client runs on
the same machine: on a busy box requests/s is a floor, CPU per request is the number to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

import httpx
from langchain_core.utils.function_calling import convert_to_openai_tool

from copyloom.contracts.enums import Channel
from copyloom.genai.messages import render_generation_prompt
from copyloom.genai.structured import variants_model
from tests.genai.bundles import make_request
from tests.modelserver import start_model_server


def _bodies() -> list[bytes]:
    out = []
    for channel in (Channel.EMAIL, Channel.SMS, Channel.PUSH):
        prompt = render_generation_prompt(make_request(channel=channel, n=3))
        tool = convert_to_openai_tool(variants_model(channel, 3))
        body: dict[str, Any] = {
            "model": "gpt-4o-mini",
            "messages": [{"role": m.role, "content": m.content} for m in prompt.messages],
            "tools": [tool],
            "tool_choice": {"type": "function", "function": {"name": tool["function"]["name"]}},
        }
        out.append(json.dumps(body).encode())
    return out


async def _drive(base_url: str, seconds: float, concurrency: int) -> int:
    """``concurrency`` keep-alive connections, each sending requests back to back until time is up.

    A hand-written HTTP/1.1 client: httpx costs about 7 ms of CPU per request here, which would measure the
    client instead of the server."""
    host, port = httpx.URL(base_url).host, httpx.URL(base_url).port or 80
    requests = [
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: %s\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n%s" % (host.encode(), len(body), body)
        for body in _bodies()
    ]
    deadline = time.monotonic() + seconds
    done = 0

    async def worker(k: int) -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection(host, port)
        i = k
        try:
            while time.monotonic() < deadline:
                writer.write(requests[i % len(requests)])
                i += 1
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                await reader.readexactly(length)
                if status != 200:
                    raise RuntimeError(f"HTTP {status}")
                done += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return done


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.modelserver.loadcheck")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--latency-ms", type=float, default=0.0)
    args = p.parse_args(argv)
    with start_model_server(latency_ms=args.latency_ms) as server:
        asyncio.run(_drive(server.base_url, 1.0, 4))  # warm up (imports, first prompts)
        server.reset()
        started = time.monotonic()
        done = asyncio.run(_drive(server.base_url, args.seconds, args.concurrency))
        elapsed = time.monotonic() - started
        stats = server.stats()
    result = {
        "latency_ms": args.latency_ms,
        "concurrency": args.concurrency,
        "requests": done,
        "requests_per_s": round(done / elapsed, 1),
        "server_cpu_ms_per_request": round(stats["cpu_s"] * 1000 / max(stats["requests"], 1), 3),
        "server_cpu_share": round(stats["cpu_s"] / elapsed, 3),
        "connections_opened": stats["connections_opened"],
        "max_in_flight": stats["max_in_flight"],
        "load_average": os.getloadavg(),
    }
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
