"""The post-generation pipeline: run every check on a draft, keep the worst verdict, time it."""

from __future__ import annotations

import time

from copyloom.contracts.variants import Variant
from copyloom.guardrails.channel import check_channel
from copyloom.guardrails.context import Check, CheckContext
from copyloom.guardrails.grounding import check_grounding
from copyloom.guardrails.pii import check_pii
from copyloom.guardrails.relevance import check_relevance
from copyloom.guardrails.results import result
from copyloom.guardrails.tone import check_tone
from copyloom.guardrails.types import CheckResult, GuardrailReport, Verdict

CHECKS: dict[str, Check] = {
    "grounding": check_grounding,
    "relevance": check_relevance,
    "tone": check_tone,
    "pii": check_pii,
    "channel": check_channel,
}


def run_checks(variant: Variant, ctx: CheckContext, checks: dict[str, Check] | None = None) -> GuardrailReport:
    """Run every check (a failing check is a block, never an exception to the caller); overall = worst."""
    started = time.perf_counter()
    results: list[CheckResult] = []
    for name, check in (checks or CHECKS).items():
        try:
            results.append(check(variant, ctx))
        except Exception as exc:
            results.append(result(name, Verdict.BLOCK, "check_error", f"Check {name} failed: {exc!r}."))
    return GuardrailReport.from_results(results, latency_ms=(time.perf_counter() - started) * 1000)


def repair_feedback(report: GuardrailReport) -> list[str]:
    """Messages for the generator's single retry, when every block in the report is repairable.

    Empty when nothing blocks, or when some block cannot be fixed by rewording (a hallucinated price is
    not "repaired" by asking again; the draft is rejected).
    """
    blocks = report.blocking
    if not blocks or not all(r.repairable for r in blocks):
        return []
    messages = [r.message for r in blocks]
    messages += [r.message for r in report.flags if r.repairable]
    return list(dict.fromkeys(messages))
