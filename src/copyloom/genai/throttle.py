"""How hard a process may push one model endpoint: requests in flight (AIMD) and the provider's rate limits.

A hosted model accepts hundreds of concurrent requests, until it answers 429. :class:`ModelThrottle` lets up to
``model_concurrency`` requests be in flight; a 429 halves that number and pauses new requests for the server's
``Retry-After``, and every window of successful calls adds one slot back (additive increase, multiplicative
decrease, as TCP does). Requests-per-minute and tokens-per-minute budgets are kept by a :class:`RateLimiter`: a
token bucket in this process, or one shared through Redis when a broker is configured.

Everything here is safe to use from several threads and several event loops at once (the API server's loop and the
background loop of the same process share one throttle per endpoint): state lives under a ``threading.Lock`` and
waiters are woken on their own loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

__all__ = ["LocalRateLimiter", "ModelThrottle", "RateLimiter", "ThrottleStats"]


class RateLimiter(Protocol):
    """Requests-per-minute and tokens-per-minute budgets of one endpoint."""

    async def acquire(self, tokens: int) -> float:
        """Wait until one request of ``tokens`` tokens fits both budgets; return the seconds waited."""
        ...


class LocalRateLimiter:
    """Two token buckets (requests and tokens), each refilled continuously at its per-minute rate and holding at
    most one minute's worth. A request reserves its share at once (the bucket may go below zero) and sleeps until
    the reservation is covered, so waiters are served in arrival order without polling."""

    def __init__(self, requests_per_min: float | None, tokens_per_min: float | None) -> None:
        self._rpm = requests_per_min
        self._tpm = tokens_per_min
        self._lock = threading.Lock()
        now = time.monotonic()
        self._req_level = float(requests_per_min or 0)
        self._tok_level = float(tokens_per_min or 0)
        self._at = now

    def _reserve(self, tokens: int) -> float:
        with self._lock:
            now = time.monotonic()
            elapsed = now - self._at
            self._at = now
            wait = 0.0
            if self._rpm:
                self._req_level = min(self._rpm, self._req_level + elapsed * self._rpm / 60.0) - 1.0
                if self._req_level < 0:
                    wait = max(wait, -self._req_level * 60.0 / self._rpm)
            if self._tpm:
                need = min(float(tokens), self._tpm)  # one request larger than the budget still goes, alone
                self._tok_level = min(self._tpm, self._tok_level + elapsed * self._tpm / 60.0) - need
                if self._tok_level < 0:
                    wait = max(wait, -self._tok_level * 60.0 / self._tpm)
            return wait

    async def acquire(self, tokens: int) -> float:
        wait = self._reserve(tokens)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait


@dataclass(frozen=True)
class ThrottleStats:
    limit: int
    in_flight: int
    max_in_flight: int
    rate_limited: int
    waited_s: float


class ModelThrottle:
    """Slots for requests in flight to one endpoint, shrinking on 429 and growing back slowly."""

    def __init__(self, max_concurrency: int, rate: RateLimiter | None = None) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self._limit = self.max_concurrency
        self._rate = rate
        self._lock = threading.Lock()
        self._in_flight = 0
        self._max_in_flight = 0
        self._successes = 0
        self._paused_until = 0.0
        self._last_decrease = 0.0
        self._rate_limited = 0
        self._waited = 0.0
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    def stats(self) -> ThrottleStats:
        with self._lock:
            return ThrottleStats(self._limit, self._in_flight, self._max_in_flight, self._rate_limited, self._waited)

    def reset_peak(self) -> None:
        with self._lock:
            self._max_in_flight = self._in_flight

    async def acquire(self, tokens: int = 0) -> None:
        """Wait for a slot, then for the rate budget. Always pair with :meth:`release`."""
        started = time.monotonic()
        while True:
            with self._lock:
                now = time.monotonic()
                if self._in_flight < self._limit and now >= self._paused_until:
                    self._in_flight += 1
                    self._max_in_flight = max(self._max_in_flight, self._in_flight)
                    break
                loop = asyncio.get_running_loop()
                future: asyncio.Future[None] = loop.create_future()
                entry = (loop, future)
                self._waiters.append(entry)
                # Paused after a 429: wake when the pause ends. Otherwise a release wakes us; re-check each second
                # in case a wake-up went to a waiter that was cancelled meanwhile.
                timeout = self._paused_until - now if now < self._paused_until else 1.0
            try:
                await asyncio.wait_for(asyncio.shield(future), timeout=max(timeout, 0.001))
            except TimeoutError:
                pass
            finally:
                with self._lock:
                    if entry in self._waiters:
                        self._waiters.remove(entry)
        try:
            if self._rate is not None:
                await self._rate.acquire(tokens)
        except BaseException:
            self.release(ok=False)
            raise
        with self._lock:
            self._waited += time.monotonic() - started

    def release(self, *, ok: bool) -> None:
        with self._lock:
            self._in_flight -= 1
            if ok:
                self._successes += 1
                if self._successes >= self._limit and self._limit < self.max_concurrency:
                    self._limit += 1  # one more slot per window of successful calls
                    self._successes = 0
            self._wake(self._limit - self._in_flight)

    def on_rate_limited(self, retry_after_s: float | None) -> None:
        """A 429: halve the slots (once per burst: the other requests in flight were sent at the old rate) and
        pause new requests for ``Retry-After`` (1 s when the server gives none)."""
        with self._lock:
            now = time.monotonic()
            self._rate_limited += 1
            pause = retry_after_s if retry_after_s is not None else 1.0
            self._paused_until = max(self._paused_until, now + min(max(pause, 0.0), 60.0))
            if now - self._last_decrease >= max(pause, 0.5):
                self._limit = max(1, self._limit // 2)
                self._successes = 0
                self._last_decrease = now

    def _wake(self, n: int) -> None:
        """Wake up to ``n`` waiters on their own loops (caller holds the lock)."""
        while n > 0 and self._waiters:
            loop, future = self._waiters.popleft()
            if future.done() or loop.is_closed():
                continue
            loop.call_soon_threadsafe(_resolve, future)
            n -= 1


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
