"""The one cache type: expiry, explicit invalidation, eviction at the key limit, use from many threads."""

from __future__ import annotations

import sys
import threading

import pytest

from copyloom.contracts.cache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_served_until_its_ttl_then_built_again() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(ttl_s=10, clock=clock)
    builds: list[int] = []

    def build() -> int:
        builds.append(1)
        return len(builds)

    assert cache.get_or_build("k", build) == 1
    clock.now += 9.9
    assert cache.get_or_build("k", build) == 1
    clock.now += 0.1
    assert cache.get("k") is None
    assert cache.get_or_build("k", build) == 2
    assert len(builds) == 2


def test_not_found_is_not_remembered() -> None:
    cache: TTLCache[str, int] = TTLCache(ttl_s=60)
    assert cache.get_or_build("campaign", lambda: None) is None
    assert cache.get_or_build("campaign", lambda: 7) == 7


def test_invalidate_forgets_one_key_and_invalidate_where_a_group() -> None:
    cache: TTLCache[tuple[str, str], int] = TTLCache(ttl_s=60)
    cache.put_many({("acme", "a"): 1, ("acme", "b"): 2, ("globex", "a"): 3})
    cache.invalidate(("acme", "a"))
    assert cache.get_many([("acme", "a"), ("acme", "b")]) == {("acme", "b"): 2}
    cache.invalidate_where(lambda key: key[0] == "acme")
    assert cache.get_many([("acme", "b"), ("globex", "a")]) == {("globex", "a"): 3}
    cache.clear()
    assert len(cache) == 0


def test_at_the_key_limit_expired_entries_go_first_then_the_oldest() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(ttl_s=10, max_keys=3, clock=clock)
    cache.put("old", 1)
    clock.now += 11  # "old" has expired
    cache.put("a", 2)
    cache.put("b", 3)
    cache.put("c", 4)  # full: the expired "old" makes room
    assert cache.get_many(["a", "b", "c"]) == {"a": 2, "b": 3, "c": 4}
    cache.put("a", 5)  # re-stored: now the youngest
    cache.put("d", 6)  # full and nothing expired: the oldest stored ("b") goes
    assert cache.get_many(["a", "b", "c", "d"]) == {"a": 5, "c": 4, "d": 6}
    assert len(cache) == 3


def test_many_threads_reading_writing_and_invalidating_keep_it_consistent() -> None:
    cache: TTLCache[int, int] = TTLCache(ttl_s=60, max_keys=50)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(seed: int) -> None:
        try:
            start.wait()
            for i in range(2000):
                key = (seed * 7919 + i) % 120
                value = cache.get_or_build(key, lambda key=key: key * 2)
                assert value == key * 2
                if i % 17 == 0:
                    cache.invalidate(key)
                if i % 101 == 0:
                    cache.invalidate_where(lambda k: k % 5 == 0)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so an unlocked read-modify-write would show
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    assert not errors
    assert len(cache) <= 50
    assert all(v == k * 2 for k, v in cache.get_many(range(120)).items())


def test_a_key_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        TTLCache(ttl_s=1, max_keys=0)
