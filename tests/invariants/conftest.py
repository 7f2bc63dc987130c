"""Counts the invariant tests' generated steps: the issue asks for at least 10,000 per CI run. The count (by outcome,
per test, and the sends committed) is printed at the end of the run and written to
``test-artifacts/invariant-steps.json``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.invariants.world import StepLog

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "invariant-steps.json"
REQUIRED = 10_000


_LOGS: dict[str, StepLog] = {}


@pytest.fixture
def step_log(request: pytest.FixtureRequest) -> StepLog:
    log = _LOGS[request.node.nodeid] = StepLog()
    return log


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _LOGS:
        return
    total = sum(log.steps.total() for log in _LOGS.values())
    outcomes: Counter[str] = Counter()
    for log in _LOGS.values():
        outcomes.update(log.steps)
    terminalreporter.section("invariant steps")
    verdict = "meets" if total >= REQUIRED else "is BELOW"
    terminalreporter.write_line(f"{total} generated steps in {len(_LOGS)} tests: {verdict} the {REQUIRED} required")
    for nodeid, log in _LOGS.items():
        terminalreporter.write_line(f"  {nodeid}: {log.steps.total()} steps, {log.sends} sends committed")
    terminalreporter.write_line("  by outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    payload = {
        "total_steps": total,
        "required": REQUIRED,
        "tests": {
            n: {"steps": log.steps.total(), "sends": log.sends, "by_outcome": dict(log.steps)}
            for n, log in _LOGS.items()
        },
    }
    try:
        ARTIFACT.parent.mkdir(exist_ok=True)
        ARTIFACT.write_text(json.dumps(payload, indent=2) + "\n")
    except OSError as exc:
        terminalreporter.write_line(f"{ARTIFACT} not written: {exc}")
