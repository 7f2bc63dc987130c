"""The facts index cache is shared by checks running in worker threads: a reader that found a bundle must not
lose it to another thread's eviction between looking it up and marking it recently used."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import pytest

from copyloom.guardrails import facts_index as module
from copyloom.guardrails.facts_index import facts_index
from tests.guardrails.factories import bundle


class _PausingReads(OrderedDict[Any, Any]):
    """Pauses the thread named "reader" right after a hit, until another thread has evicted (or 1 s passed)."""

    def __init__(self, reading: threading.Event, evicted: threading.Event) -> None:
        super().__init__()
        self.reading, self.evicted = reading, evicted

    def get(self, key: Any, default: Any = None) -> Any:
        value = super().get(key, default)
        if value is not None and threading.current_thread().name == "reader":
            self.reading.set()
            self.evicted.wait(timeout=1.0)
        return value


def test_an_eviction_racing_a_cache_hit_does_not_break_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    reading, evicted = threading.Event(), threading.Event()
    monkeypatch.setattr(module, "_CACHE", _PausingReads(reading, evicted))
    first = bundle()
    facts_index(first)  # cached, and the oldest entry
    others = [bundle("zh") for _ in range(module._CACHE_SIZE)]
    errors: list[BaseException] = []

    def read() -> None:
        try:
            assert facts_index(first).codes
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def evict() -> None:
        reading.wait(timeout=5)
        for b in others:  # as many new bundles as the cache keeps: the oldest, ``first``, goes
            facts_index(b)
        evicted.set()

    threads = [threading.Thread(target=read, name="reader"), threading.Thread(target=evict, name="evictor")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(module._CACHE) <= module._CACHE_SIZE
