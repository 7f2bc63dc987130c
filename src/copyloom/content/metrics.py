"""Prometheus metrics of the content services (one registry per process, exposed at ``GET /metrics``)."""

from __future__ import annotations

from functools import cache

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

DRAFTS = Counter(
    "copyloom_drafts_total",
    "Drafts stored, by channel and guardrail verdict.",
    ["channel", "verdict"],
    registry=REGISTRY,
)
GUARDRAIL_RESULTS = Counter(
    "copyloom_guardrail_results_total",
    "Check results that were not a pass, by check.",
    ["check", "verdict"],
    registry=REGISTRY,
)
SUPPRESSIONS = Counter(
    "copyloom_suppressions_total", "Channels the consent gate refused, by reason.", ["reason"], registry=REGISTRY
)
DECISIONS = Counter(
    "copyloom_decisions_total", "Journey decisions, by decision and source.", ["decision", "source"], registry=REGISTRY
)


@cache
def decisions(decision: str, source: str) -> Counter:
    """The decisions counter for one (decision, source): looked up once, not on every real-time call."""
    return DECISIONS.labels(decision, source)


MODEL_LATENCY = Histogram(
    "copyloom_generation_seconds",
    "Generator latency per call, by generator kind.",
    ["kind"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TOKENS = Counter(
    "copyloom_model_tokens_total", "Model tokens, by kind (prompt or completion).", ["kind"], registry=REGISTRY
)
COST = Counter("copyloom_model_cost_usd_total", "Model cost in USD from the price table.", registry=REGISTRY)
MODEL_ERRORS = Counter("copyloom_model_errors_total", "Model failures by error code.", ["code"], registry=REGISTRY)
