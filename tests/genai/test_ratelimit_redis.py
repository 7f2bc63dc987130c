"""The Redis-shared rate limiter against the real Redis server that scripts/test starts."""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from copyloom.genai.ratelimit_redis import RedisRateLimiter

REDIS_URL = os.environ.get("COPYLOOM_TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parents[2]
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="COPYLOOM_TEST_REDIS_URL is not set (scripts/test starts Redis)")


def worst_window(grants: list[dict[str, float]], window_s: float) -> tuple[int, int]:
    """The most requests and tokens granted in any window (``(t - window, t]``, as the limiter counts)."""
    most_requests = most_tokens = 0
    for g in grants:
        inside = [h for h in grants if g["at"] - window_s < h["at"] <= g["at"]]
        most_requests = max(most_requests, len(inside))
        most_tokens = max(most_tokens, int(sum(h["tokens"] for h in inside)))
    return most_requests, most_tokens


@needs_redis
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_two_processes_sharing_a_limit_never_exceed_it() -> None:
    assert REDIS_URL is not None
    key, window_s, requests, tokens = f"test-{uuid.uuid4().hex}", 2.0, 5, 600
    rng = random.Random(7)
    sizes = [[rng.randint(40, 250) for _ in range(8)] for _ in range(2)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.genai.ratelimit_child",
                REDIS_URL,
                key,
                str(requests),
                str(tokens),
                str(window_s),
                json.dumps(s),
            ],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for s in sizes
    ]
    outputs = [child.communicate(timeout=240)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0]
    grants = [json.loads(line) for out in outputs for line in out.splitlines()]
    assert len(grants) == 16
    assert worst_window(grants, window_s) <= (requests, tokens)
    # Both processes were held back: 16 grants of ~2,300 tokens cannot fit in one window.
    assert all(any(json.loads(line)["waited"] > 0 for line in out.splitlines()) for out in outputs)


@needs_redis
def test_request_budget_holds_within_one_process_and_reports_the_wait() -> None:
    assert REDIS_URL is not None

    async def run() -> list[float]:
        limiter = RedisRateLimiter(REDIS_URL, f"test-{uuid.uuid4().hex}", 3, None, window_s=0.5)
        try:
            return [await limiter.acquire(10) for _ in range(4)]
        finally:
            await limiter.aclose()

    waited = asyncio.run(run())
    assert waited[:3] == pytest.approx([0, 0, 0], abs=0.2)
    assert waited[3] > 0.2  # the fourth waited for the first to leave the window


@needs_redis
def test_a_request_larger_than_the_token_budget_goes_alone_instead_of_waiting_forever() -> None:
    assert REDIS_URL is not None

    async def run() -> list[float]:
        limiter = RedisRateLimiter(REDIS_URL, f"test-{uuid.uuid4().hex}", None, 100, window_s=0.5)
        try:
            return [(await limiter.grant(n)).at for n in (500, 1)]
        finally:
            await limiter.aclose()

    big, small = asyncio.run(run())
    assert small - big >= 0.5  # the big one took the whole budget for a whole window


def test_without_budgets_there_is_nothing_to_wait_for_or_ask() -> None:
    # A closed port: an unlimited limiter never talks to Redis.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{port}/0", "k", None, None)
    assert asyncio.run(limiter.acquire(1_000)) == 0.0


def test_unreachable_redis_lets_requests_through() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def run() -> float:
        limiter = RedisRateLimiter(f"redis://127.0.0.1:{port}/0", "k", 1, 10)
        try:
            return await limiter.acquire(5)
        finally:
            await limiter.aclose()

    assert asyncio.run(run()) < 30


@pytest.mark.parametrize(("requests", "tokens"), [(0, None), (None, -1)])
def test_budgets_must_be_positive(requests: int | None, tokens: int | None) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        RedisRateLimiter("redis://127.0.0.1:1/0", "k", requests, tokens)


@needs_redis
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="counts this process's sockets through /proc (Linux)")
def test_the_throttles_redis_connection_is_closed_when_its_loop_ends() -> None:
    from copyloom.config import Settings
    from copyloom.genai.chat import throttle_for
    from tests.genai.sockets import connections_to, unclosed_reports

    assert REDIS_URL is not None
    port = int(REDIS_URL.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    settings = Settings(
        llm_model=f"openai:limited-{uuid.uuid4().hex[:8]}",  # a throttle of its own
        llm_base_url="http://127.0.0.1:1/v1",
        broker_url=REDIS_URL,
        model_requests_per_min=1000,
    )
    throttle = throttle_for(settings)
    before = connections_to(port)

    async def acquire() -> None:
        await throttle.acquire(1)  # asks Redis for the rate budget
        throttle.release(ok=True)
        assert connections_to(port) > before

    with unclosed_reports() as reports:
        asyncio.run(acquire())
        assert connections_to(port) == before
        asyncio.run(acquire())
        assert connections_to(port) == before
    assert reports == []
