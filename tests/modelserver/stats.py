"""Counters the tests and benchmarks read at ``GET /_stats`` and zero at ``POST /_reset``."""

from __future__ import annotations

import time
from collections import Counter, deque
from typing import Any

from tests.modelserver.httpserver import Connections

__all__ = ["Stats"]

_RECENT = 1000


class Stats:
    """One process's counters. Single-threaded (the event loop), so plain integers are enough."""

    def __init__(self, connections: Connections) -> None:
        self.connections = connections
        self.in_flight = 0
        self.reset()

    def reset(self) -> None:
        self.requests = 0  # POST /v1/chat/completions received
        self.answered = 0  # good answers (a tool call or text)
        self.by_status: Counter[int] = Counter()
        self.by_tool: Counter[str] = Counter()
        self.max_in_flight = self.in_flight
        self.rate_limited: Counter[str] = Counter()  # 429s by reason: concurrency, rpm, tpm, storm, fault
        self.faults: Counter[str] = Counter()
        self.tool_choices: Counter[str] = Counter()  # the tool_choice form of requests with tools (named, ...)
        self.tool_choice_rejected = 0  # 400s for a form not in ``tool_choices``
        self.planted: Counter[str] = Counter()
        self.planted_recent: deque[dict[str, Any]] = deque(maxlen=_RECENT)
        self.recent: deque[dict[str, Any]] = deque(maxlen=_RECENT)
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.variants = 0
        self.latency_s = 0.0  # time spent waiting on purpose (the simulated model latency)
        self.connections.opened = 0
        self.connections.accepted = 0
        self._since = time.monotonic()
        self._cpu = time.process_time()

    def enter(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        self.in_flight -= 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "answered": self.answered,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_tool": dict(self.by_tool),
            "connections_opened": self.connections.opened,
            "connections_open": self.connections.open_now,
            "connections_accepted": self.connections.accepted,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "rate_limited": sum(self.rate_limited.values()),
            "rate_limited_by_reason": dict(self.rate_limited),
            "faults": dict(self.faults),
            "tool_choices": dict(self.tool_choices),
            "tool_choice_rejected": self.tool_choice_rejected,
            "faults_total": sum(self.faults.values()),
            "planted": dict(self.planted),
            "planted_total": sum(self.planted.values()),
            "planted_recent": list(self.planted_recent),
            "recent": list(self.recent),
            "variants": self.variants,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "latency_s": round(self.latency_s, 3),
            "cpu_s": round(time.process_time() - self._cpu, 4),
            "elapsed_s": round(time.monotonic() - self._since, 3),
        }
