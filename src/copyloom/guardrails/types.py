"""What every check returns, and the report the pipeline stores with a draft."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Verdict(StrEnum):
    PASS = "pass"
    FLAG = "flag"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return {"pass": 0, "flag": 1, "block": 2}[self.value]


class Evidence(BaseModel):
    """The span of the draft a verdict is about, and the fact (or rule) it contradicts."""

    model_config = ConfigDict(frozen=True)

    field: str | None = None
    start: int | None = None
    end: int | None = None
    text: str | None = None
    fact_id: str | None = None
    expected: str | None = None
    # Which rule this span breaks, when one check reports several kinds of problem.
    reason_code: str | None = None


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    check: str
    verdict: Verdict
    reason_code: str
    message: str
    evidence: list[Evidence] = Field(default_factory=list)
    repairable: bool = False


class GuardrailReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    results: list[CheckResult]
    latency_ms: float = 0.0

    @classmethod
    def from_results(cls, results: list[CheckResult], latency_ms: float = 0.0) -> GuardrailReport:
        worst = max((r.verdict for r in results), key=lambda v: v.severity, default=Verdict.PASS)
        return cls(verdict=worst, results=results, latency_ms=latency_ms)

    @property
    def blocking(self) -> list[CheckResult]:
        return [r for r in self.results if r.verdict is Verdict.BLOCK]

    @property
    def flags(self) -> list[CheckResult]:
        return [r for r in self.results if r.verdict is Verdict.FLAG]
