"""Who has to look at a draft: the routing policy, applied once when a draft is stored."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from copyloom.contracts.brand import ReviewPolicy
from copyloom.guardrails.types import GuardrailReport, Verdict

# Checks whose flags say the most about risk; anything else weighs 0.2.
_RISK_WEIGHTS = {"grounding": 0.6, "pii": 0.6, "consent": 0.6, "relevance": 0.3, "tone": 0.3, "injection": 0.5}


@dataclass(frozen=True)
class Routing:
    status: Literal["pending_review", "approved", "blocked"]
    reason: str | None
    priority: int  # higher first in the queue


def risk_score(report: GuardrailReport, generator_kind: str) -> float:
    """0 (nothing to worry about) to 1. Flags weigh by check; a model-written draft carries a little risk."""
    score = 0.15 if generator_kind == "llm" else 0.0
    for result in report.results:
        if result.verdict is Verdict.FLAG:
            score += _RISK_WEIGHTS.get(result.check, 0.2)
    return min(score, 1.0)


def route(
    report: GuardrailReport,
    policy: ReviewPolicy,
    *,
    generator_kind: str,
    campaign_mode: Literal["all", "sample"] | None = None,
    rng: random.Random | None = None,
) -> Routing:
    if report.verdict is Verdict.BLOCK:
        names = ", ".join(sorted({r.check for r in report.blocking}))
        return Routing("blocked", f"blocked by {names}", 0)
    if report.verdict is Verdict.FLAG:
        names = ", ".join(sorted({r.check for r in report.flags}))
        return Routing("pending_review", f"flagged by {names}: every flag needs a reviewer's acknowledgement", 3)
    if campaign_mode == "all":
        return Routing("pending_review", "campaign approval mode 'all': every draft is reviewed", 1)
    risk = risk_score(report, generator_kind)
    if risk >= policy.risk_threshold:
        return Routing("pending_review", f"risk score {risk:.2f} ≥ threshold {policy.risk_threshold:.2f}", 2)
    if not policy.auto_approve_passing and campaign_mode is None:
        return Routing("pending_review", "workspace policy: passing drafts are approved by a reviewer", 0)
    if (rng or random).random() < policy.sample_rate:
        return Routing("pending_review", f"sampled for quality review (rate {policy.sample_rate:.0%})", 1)
    return Routing("approved", None, 0)
