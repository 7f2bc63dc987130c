"""Builders of check results: a pass, a verdict with evidence, and the worst of several sub-results."""

from __future__ import annotations

from copyloom.guardrails.types import CheckResult, Evidence, Verdict


def passed(check: str, message: str = "ok") -> CheckResult:
    return CheckResult(check=check, verdict=Verdict.PASS, reason_code="ok", message=message)


def result(
    check: str,
    verdict: Verdict,
    reason_code: str,
    message: str,
    evidence: list[Evidence] | None = None,
    *,
    repairable: bool = False,
) -> CheckResult:
    return CheckResult(
        check=check,
        verdict=verdict,
        reason_code=reason_code,
        message=message,
        evidence=evidence or [],
        repairable=repairable,
    )


def worst(check: str, results: list[CheckResult]) -> CheckResult:
    """Merge sub-results of one check: the most severe wins, its evidence plus that of equal severity."""
    bad = [r for r in results if r.verdict is not Verdict.PASS]
    if not bad:
        return passed(check)
    top = max(bad, key=lambda r: r.verdict.severity)
    same = [r for r in bad if r.verdict is top.verdict]
    codes = sorted({r.reason_code for r in same})
    evidence = [e for r in same for e in r.evidence]
    message = "; ".join(dict.fromkeys(r.message for r in same))
    return result(
        check,
        top.verdict,
        codes[0] if len(codes) == 1 else top.reason_code,
        message,
        evidence,
        repairable=all(r.repairable for r in same),
    )
