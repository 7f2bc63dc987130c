"""Benchmark: what the edge check of JSON bodies (``domain.safe_json``: depth, strictness) costs next to the
parse every body gets anyway (Python's ``json.loads``, which FastAPI uses).

Run: ``python bench/bench_json_guard.py [--repeats N]``. Bodies: a decision request (the hot path), and
customer imports of about 1 MB and 8 MB; prints the median time of ``check_json``, of ``json.loads`` and their
ratio for each, all measured in this run (the machines are shared: compare within one run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from copyloom.domain.safe_json import check_json


def _median_s(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _per_call(fn: Callable[[bytes], object], body: bytes, inner: int, repeats: int) -> float:
    return _median_s(lambda: [fn(body) for _ in range(inner)], repeats) / inner


def _customers(n: int) -> bytes:
    rows = [
        {
            "id": f"C{i}",
            "name": "Ana Lima",
            "email": f"ana{i}@example.com",
            "locale": "pt-BR",
            "attributes": {"loyalty_tier": "gold", "interests": ["climbing", "tents [2p]"], "orders": i},
        }
        for i in range(n)
    ]
    return json.dumps(rows).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    decision = json.dumps(
        {
            "campaign_id": "0f3c9a1e5b7d4c2a",
            "customer_id": "C1001",
            "channel": "push",
            "deadline_ms": 200,
            "idempotency_key": "journey-42:C1001:push",
        }
    ).encode()
    bodies = {
        "decision": (decision, 2000),
        "import ~1 MB": (_customers(7_000), 1),
        "import ~8 MB": (_customers(56_000), 1),
    }
    print(f"{'body':<14} {'bytes':>10} {'check_json':>12} {'json.loads':>12} {'ratio':>7}")
    for name, (body, inner) in bodies.items():
        check = _per_call(check_json, body, inner, args.repeats)
        parse = _per_call(json.loads, body, inner, args.repeats)
        unit, scale = ("µs", 1e6) if check < 1e-3 else ("ms", 1e3)
        print(
            f"{name:<14} {len(body):>10} {check * scale:>9.1f} {unit} {parse * scale:>9.1f} {unit} {check / parse:>7.2f}"
        )


if __name__ == "__main__":
    main()
