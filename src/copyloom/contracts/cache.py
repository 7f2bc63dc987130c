"""One in-process cache type: entries live ``ttl_s`` seconds, writers invalidate explicitly, any thread may use it.

Every process-local cache (brand kits, workspace lookups, campaign terms, variant statistics, pairing statistics,
vectors read back from Chroma) is one of these, so expiry, eviction and locking are written once. What a cache
may serve stale is decided by its ``ttl_s``: another process's writes are seen at the latest when an entry
expires; this process's own writes call ``invalidate``.

``build`` runs outside the lock, so a slow build never blocks readers of other keys; two threads missing the same
key at once may both build it (the last one stored wins), which every cached value here tolerates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

__all__ = ["TTLCache"]


class TTLCache(Generic[K, V]):
    """A thread-safe map whose entries expire ``ttl_s`` seconds after they were stored.

    At ``max_keys`` entries, storing a new key first drops the expired ones, then the oldest stored."""

    def __init__(self, ttl_s: float, max_keys: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}  # insertion order: oldest first
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: K) -> V | None:
        """The live value of ``key``, or None."""
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            if now - hit[0] < self.ttl_s:
                return hit[1]
            del self._entries[key]
            return None

    def get_many(self, keys: Iterable[K]) -> dict[K, V]:
        """The live values of those ``keys`` that have one."""
        now = self._clock()
        out: dict[K, V] = {}
        with self._lock:
            for key in keys:
                hit = self._entries.get(key)
                if hit is not None and now - hit[0] < self.ttl_s:
                    out[key] = hit[1]
        return out

    def put(self, key: K, value: V) -> None:
        self.put_many({key: value})

    def put_many(self, values: dict[K, V]) -> None:
        now = self._clock()
        with self._lock:
            for key, value in values.items():
                self._entries.pop(key, None)  # re-stored keys move to the young end
                if len(self._entries) >= self.max_keys:
                    self._evict(now)
                self._entries[key] = (now, value)

    def get_or_build(self, key: K, build: Callable[[], V | None]) -> V | None:
        """The live value of ``key``, else ``build()`` stored and returned. A None from ``build`` (not found) is
        returned but not remembered: the thing may exist a moment later."""
        hit = self.get(key)
        if hit is not None:
            return hit
        value = build()
        if value is not None:
            self.put(key, value)
        return value

    def invalidate(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def invalidate_where(self, stale: Callable[[K], bool]) -> None:
        """Forget every key for which ``stale(key)`` is true (say, all of one workspace's)."""
        with self._lock:
            for key in [k for k in self._entries if stale(k)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _evict(self, now: float) -> None:
        # Entries are kept in the order they were stored and share one ttl, so the expired ones are the oldest:
        # eviction pops from the old end and never scans the live ones.
        while self._entries:
            oldest = next(iter(self._entries))
            if now - self._entries[oldest][0] < self.ttl_s and len(self._entries) < self.max_keys:
                return
            del self._entries[oldest]
