"""Who has to look at a draft: the routing policy, applied once when a draft is stored."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from copyloom.contracts.brand import ReviewPolicy
from copyloom.contracts.enums import DraftStatus
from copyloom.guardrails.types import GuardrailReport, Verdict

# Checks whose flags say the most about risk; anything else weighs 0.2.
_RISK_WEIGHTS = {"grounding": 0.6, "pii": 0.6, "consent": 0.6, "relevance": 0.3, "tone": 0.3, "injection": 0.5}


@dataclass(frozen=True)
class Routing:
    status: DraftStatus
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
        return Routing(DraftStatus.BLOCKED, f"blocked by {names}", 0)
    if report.verdict is Verdict.FLAG:
        names = ", ".join(sorted({r.check for r in report.flags}))
        return Routing(
            DraftStatus.PENDING_REVIEW, f"flagged by {names}: every flag needs a reviewer's acknowledgement", 3
        )
    if campaign_mode == "all":
        return Routing(DraftStatus.PENDING_REVIEW, "campaign approval mode 'all': every draft is reviewed", 1)
    risk = risk_score(report, generator_kind)
    if risk >= policy.risk_threshold:
        return Routing(DraftStatus.PENDING_REVIEW, f"risk score {risk:.2f} ≥ threshold {policy.risk_threshold:.2f}", 2)
    if not policy.auto_approve_passing and campaign_mode is None:
        return Routing(DraftStatus.PENDING_REVIEW, "workspace policy: passing drafts are approved by a reviewer", 0)
    if (rng or random).random() < policy.sample_rate:
        return Routing(DraftStatus.PENDING_REVIEW, f"sampled for quality review (rate {policy.sample_rate:.0%})", 1)
    return Routing(DraftStatus.APPROVED, None, 0)
