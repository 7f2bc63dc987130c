"""A rate limiter for one model endpoint shared by every process through Redis (when a broker is configured).

Two budgets over a sliding window (a minute): requests and tokens. Each grant is logged in a sorted set scored by
the Redis server's clock, so processes on several machines share one clock and one log; one Lua script checks
both budgets and records the grant atomically, so two processes can never both take the last unit. In any
window, granted requests never exceed ``requests_per_min`` and granted tokens never exceed ``tokens_per_min``.

When a budget is spent the script answers how long until enough of the log expires; the caller sleeps that long
and asks again. A request of more tokens than the whole budget counts as the whole budget (it goes alone, when
the window is empty) rather than waiting forever. If Redis cannot be reached the limiter lets requests through
(and logs it): the provider's own 429s, which are retried with backoff, still protect it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["Grant", "RedisRateLimiter"]

log = logging.getLogger("copyloom.genai.ratelimit")

# KEYS: request log, token log (members "<id>:<tokens>"), token total, id sequence.
# ARGV: request budget (0: none), token budget (0: none), tokens asked, window in microseconds.
# Returns {microseconds to wait (0: granted), server time in microseconds}.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local req_limit, tok_limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local cost, window = tonumber(ARGV[3]), tonumber(ARGV[4])
local floor = now - window
if tok_limit > 0 and cost > tok_limit then cost = tok_limit end
local function tokens_of(member) return tonumber(string.match(member, ':(%d+)$')) end
local function save_total(total)  -- the total lives exactly as long as the token log
  local ttl = redis.call('PTTL', KEYS[2])
  if ttl > 0 then redis.call('SET', KEYS[3], total, 'PX', ttl) else redis.call('DEL', KEYS[3]) end
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', floor)
local total = redis.call('GET', KEYS[3])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', floor)
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', floor) end
if redis.call('ZCARD', KEYS[2]) == 0 then
  total = 0
elseif total then
  total = tonumber(total)
  for _, m in ipairs(expired) do total = total - tokens_of(m) end
else  -- the total was lost (evicted): count it again from the log
  total = 0
  for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do total = total + tokens_of(m) end
end

local wait = 0
if req_limit > 0 then
  local n = redis.call('ZCARD', KEYS[1])
  if n >= req_limit then
    local oldest = redis.call('ZRANGE', KEYS[1], n - req_limit, n - req_limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now + 1)
  end
end
if tok_limit > 0 and total + cost > tok_limit then
  local need, freed, start = total + cost - tok_limit, 0, 0
  while freed < need do
    local batch = redis.call('ZRANGE', KEYS[2], start, start + 99, 'WITHSCORES')
    if #batch == 0 then break end
    for i = 1, #batch, 2 do
      freed = freed + tokens_of(batch[i])
      if freed >= need then
        wait = math.max(wait, tonumber(batch[i + 1]) + window - now + 1)
        break
      end
    end
    start = start + 100
  end
end
if wait > 0 then
  if #expired > 0 then save_total(total) end
  return {wait, now}
end

local id = redis.call('INCR', KEYS[4])
if req_limit > 0 then redis.call('ZADD', KEYS[1], now, id) end
if tok_limit > 0 and cost > 0 then
  redis.call('ZADD', KEYS[2], now, id .. ':' .. cost)
  total = total + cost
end
local ttl = math.ceil(window / 1000) + 1000
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[4], ttl)
save_total(total)
return {0, now}
"""


@dataclass(frozen=True)
class Grant:
    """A granted request: how long it waited for the budgets, and when (the Redis server's clock, in seconds)."""

    waited_s: float
    at: float


class RedisRateLimiter:
    """Requests and tokens per minute for one endpoint (``key``, e.g. base URL and model), shared in Redis.

    ``None`` for a budget means no limit on it. ``window_s`` is the window both budgets apply to (a minute;
    tests shorten it). Use it from one event loop: its connections belong to the loop that opened them.
    """

    def __init__(
        self,
        url: str,
        key: str,
        requests_per_min: int | None,
        tokens_per_min: int | None,
        *,
        window_s: float = 60.0,
    ) -> None:
        for name, value in (("requests_per_min", requests_per_min), ("tokens_per_min", tokens_per_min)):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None, not {value}")
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.key = key
        self.requests_per_min = requests_per_min
        self.tokens_per_min = tokens_per_min
        self.window_s = window_s
        self._redis: aioredis.Redis = aioredis.Redis.from_url(url)
        self._script: Any = self._redis.register_script(_SCRIPT)
        # A hash tag keeps the four keys in one Redis Cluster slot, as a script's keys must be.
        prefix = f"copyloom:ratelimit:{{{key}}}"
        self._keys = [f"{prefix}:req", f"{prefix}:tok", f"{prefix}:tok_total", f"{prefix}:seq"]

    async def acquire(self, tokens: int) -> float:
        """Wait until one more request of ``tokens`` tokens fits both budgets; the seconds waited."""
        return (await self.grant(tokens)).waited_s

    async def grant(self, tokens: int) -> Grant:
        """Like ``acquire``, also telling when the grant was recorded (the server's clock)."""
        if tokens < 0:
            raise ValueError("tokens must not be negative")
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.requests_per_min is None and self.tokens_per_min is None:
            return Grant(0.0, 0.0)
        args = [self.requests_per_min or 0, self.tokens_per_min or 0, tokens, round(self.window_s * 1_000_000)]
        while True:
            try:
                wait_us, now_us = await self._script(keys=self._keys, args=args)
            except RedisError as exc:
                log.warning("genai.ratelimit.unavailable", extra={"key": self.key, "error": repr(exc)})
                return Grant(loop.time() - started, 0.0)
            if int(wait_us) == 0:
                return Grant(loop.time() - started, int(now_us) / 1_000_000)
            # A little jitter, so that the waiters of many processes do not all ask again at the same instant.
            await asyncio.sleep(int(wait_us) / 1_000_000 + random.uniform(0, 0.005))

    async def aclose(self) -> None:
        await self._redis.aclose()
