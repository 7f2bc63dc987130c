"""The semantic support check in the draft pipeline: the judge's verdict becomes one more guardrail result.

Unsupported sentences are flags (a human reviews them), with the sentence as evidence; a judge that fails or
times out is a flag too (nothing was verified), never a lost draft. The judge's tokens and cost are added to the
generation's usage, so they are stored with the draft and count against the workspace's budget. Offline (no
model configured) the judge is skipped and the report says so.
"""

from __future__ import annotations

import logging

from copyloom.config import Settings
from copyloom.contracts.text import copy_fields
from copyloom.genai.answers import failure_code
from copyloom.genai.judge import JudgeOutcome, LoopJudges, SupportJudge
from copyloom.genai.types import GenerationResult
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.results import result
from copyloom.guardrails.types import CheckResult, Evidence, GuardrailReport, Verdict

__all__ = ["NAME", "judge_drafts", "judge_result"]

NAME = "judge"
log = logging.getLogger(__name__)
# One judge per event loop and model, its httpx client closed on that loop when the loop ends (genai.judge).
_JUDGES = LoopJudges()


def _judge(settings: Settings) -> SupportJudge | None:
    # Opt-in: a judge doubles the model calls of every draft, so it runs only when a judge model is named.
    model = settings.judge_model if settings.llm_model else None
    return _JUDGES.for_model(settings, model) if model else None


def judge_result(outcome: JudgeOutcome) -> CheckResult:
    """Flag each unsupported sentence; the message carries the judge's model, latency and cost."""
    cost = f"model {outcome.model}, {outcome.latency_ms:.0f} ms, {outcome.usage.total_tokens} tokens, ${outcome.usage.cost_usd}"
    bad = outcome.unsupported()
    if not bad:
        return result(NAME, Verdict.PASS, "ok", f"Every sentence is supported by the facts or states none ({cost}).")
    evidence = [
        Evidence(text=sentence, reason_code="judge_unsupported", expected=v.reason or "a fact that supports it")
        for sentence, v in bad
    ]
    listing = "; ".join(f"'{s[:60]}': {v.reason}" for s, v in bad[:3])
    return result(NAME, Verdict.FLAG, "judge_unsupported", f"Not supported by the facts: {listing} ({cost}).", evidence)


def _with(report: GuardrailReport, extra: CheckResult) -> GuardrailReport:
    return GuardrailReport.from_results([*report.results, extra], latency_ms=report.latency_ms)


async def judge_drafts(
    settings: Settings, ctx: CheckContext, generated: GenerationResult, reports: list[GuardrailReport]
) -> tuple[GenerationResult, list[GuardrailReport]]:
    """Each report with the judge's result appended, and the generation's usage with the judge's added."""
    judge = _judge(settings)
    if judge is None:
        skipped = result(
            NAME,
            Verdict.PASS,
            "judge_skipped_offline",
            "Semantic support check skipped: no judge model (COPYLOOM_JUDGE_MODEL) or no model at all.",
        )
        return generated, [_with(r, skipped) for r in reports]
    out: list[GuardrailReport] = []
    usage = generated.usage
    for variant, report in zip(generated.variants, reports, strict=True):
        try:
            outcome = await judge.judge(copy_fields(variant), ctx.bundle, send_at=ctx.send_at.isoformat())
        except Exception as exc:  # a judge failure leaves the draft unverified, never lost
            code = failure_code(exc)  # model_invalid_output for an answer that came back unusable
            log.warning("content.judge.failed", extra={"error": repr(exc)[:300], "code": code})
            message = f"Judge failed ({code}): {exc!r}"[:300]
            out.append(_with(report, result(NAME, Verdict.FLAG, "judge_failed", message)))
            continue
        usage = usage + outcome.usage
        out.append(_with(report, judge_result(outcome)))
    return generated.model_copy(update={"usage": usage}), out
