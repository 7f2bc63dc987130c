"""Prompt tokens for N=3 variants in ONE structured call vs 3 separate calls (target: one call <= 45%).

Counts with the tiktoken counter over exactly what goes over the wire: the requests that langchain-openai sends
to a local OpenAI-compatible stub (messages + the tool schema), recorded by the stub. Per-message overhead of
the chat format (about 3-4 tokens per message) is added the way OpenAI's cookbook counts it.
Also times the offline generator. Run: python bench/bench_generation.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes import openai_stub, tool_call_response
from tests.genai.bundles import make_request

from copyloom.config import Settings
from copyloom.contracts.enums import Channel, Goal
from copyloom.contracts.tokens import get_token_counter
from copyloom.genai import OfflineGenerator, build_generator

MODEL = "openai:gpt-4o-mini"


def _args(channel: Channel, n: int) -> dict[str, Any]:
    content = {
        Channel.EMAIL: {"subject": "s", "preheader": "p", "body": "b", "cta_text": "c"},
        Channel.PUSH: {"title": "t", "body": "Use code TRAIL20."},
    }[channel]
    return {"variants": [{"angle": f"a{i}", "fact_ids": [], "content": content} for i in range(n)]}


def request_tokens(body: dict[str, Any]) -> int:
    counter = get_token_counter(MODEL)
    total = 3  # reply priming
    for message in body["messages"]:
        total += 4 + counter.count_tokens(str(message.get("content") or ""))
    total += counter.count_tokens(json.dumps(body.get("tools", []), ensure_ascii=False))
    return total


def measure(channel: Channel, locale_bundle: Any = None) -> tuple[int, int]:
    tool = f"Submit{channel.value.title().replace('_', '')}Variants"
    with openai_stub() as stub:
        settings = Settings(llm_model=MODEL, llm_base_url=stub.base_url, llm_api_key="bench", llm_max_retries=0)
        generator = build_generator(settings)
        stub.enqueue(tool_call_response(tool, _args(channel, 3)))
        asyncio.run(generator.generate(make_request(channel, 3, Goal.WIN_BACK)))
        one_call = request_tokens(stub.requests[0].body)
        stub.requests.clear()
        stub.enqueue(*(tool_call_response(tool, _args(channel, 1)) for _ in range(3)))
        for _ in range(3):
            asyncio.run(generator.generate(make_request(channel, 1, Goal.WIN_BACK)))
        three_calls = sum(request_tokens(r.body) for r in stub.requests)
    return one_call, three_calls


def offline_latency(channel: Channel, runs: int = 200) -> float:
    gen = OfflineGenerator()
    request = make_request(channel, 3)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        asyncio.run(gen.generate(request))
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    counter = get_token_counter(MODEL)
    print(f"token counter: {counter.encoding_name}" + (f" ({counter.note})" if counter.note else ""))
    for channel in (Channel.EMAIL, Channel.PUSH):
        one, three = measure(channel)
        ratio = one / three
        verdict = "OK" if ratio <= 0.45 else "OVER TARGET"
        print(
            f"{channel.value:6s} N=3 prompt tokens: one call {one:5d} | three calls {three:5d} "
            f"| ratio {ratio:.1%} (target <= 45%: {verdict})"
        )
    for channel in (Channel.EMAIL, Channel.SMS):
        print(f"offline generator, {channel.value}, 3 variants: median {offline_latency(channel):.2f} ms")


if __name__ == "__main__":
    main()
