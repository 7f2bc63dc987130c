"""One process of the shared-limit test: take ``count`` grants of the given token sizes, print them as JSON."""

from __future__ import annotations

import asyncio
import json
import sys

from copyloom.genai.ratelimit_redis import RedisRateLimiter


async def main(url: str, key: str, requests: int, tokens: int, window_s: float, sizes: list[int]) -> None:
    limiter = RedisRateLimiter(url, key, requests, tokens, window_s=window_s)
    try:
        for size in sizes:
            grant = await limiter.grant(size)
            sys.stdout.write(json.dumps({"at": grant.at, "tokens": size, "waited": grant.waited_s}) + "\n")
    finally:
        await limiter.aclose()


if __name__ == "__main__":
    url, key, requests, tokens, window_s, sizes = sys.argv[1:]
    asyncio.run(main(url, key, int(requests), int(tokens), float(window_s), json.loads(sizes)))
