"""Fit facts into a token budget: required facts always, then each section up to its share, then the best of
what is left; everything else is recorded as dropped."""

from __future__ import annotations

from dataclasses import dataclass, field

from copyloom.contracts.facts import DroppedFact, Fact, FactKind
from copyloom.contracts.tokens import TokenCounter

__all__ = ["DEFAULT_ALLOTMENTS", "DEFAULT_TOKEN_BUDGET", "BudgetResult", "fact_line", "fit_to_budget"]

DEFAULT_TOKEN_BUDGET = 1500

# Share of the budget (after required facts) each section may use in the first pass; unused shares are pooled
# and handed to the best remaining facts of any section in the second pass.
DEFAULT_ALLOTMENTS: dict[FactKind, float] = {
    FactKind.PROFILE: 0.10,
    FactKind.PURCHASE: 0.16,
    FactKind.PRODUCT: 0.19,
    FactKind.PAIRING: 0.08,
    FactKind.OFFER: 0.15,
    FactKind.KNOWLEDGE: 0.12,
    FactKind.EVENT: 0.07,
    FactKind.CONTACT: 0.06,
    FactKind.NOTE: 0.07,
}
SECTION_ORDER = list(DEFAULT_ALLOTMENTS)


def fact_line(fact: Fact) -> str:
    """How a fact is measured: the way prompts list it, id then text."""
    return f"[{fact.id}] {fact.text}\n"


@dataclass
class BudgetResult:
    facts: list[Fact]
    dropped: list[DroppedFact]
    token_count: int
    notes: list[str] = field(default_factory=list)


def fit_to_budget(
    facts: list[Fact],
    budget: int,
    counter: TokenCounter,
    allotments: dict[FactKind, float] | None = None,
) -> BudgetResult:
    shares = allotments or DEFAULT_ALLOTMENTS
    cost = {f.id: counter.count_tokens(fact_line(f)) for f in facts}
    kept: list[Fact] = [f for f in facts if f.required]
    used = sum(cost[f.id] for f in kept)
    notes: list[str] = []
    if used > budget:
        notes.append(f"required facts need {used} tokens, more than the budget of {budget}; all kept")

    room = max(budget - used, 0)
    optional = sorted((f for f in facts if not f.required), key=lambda f: (-f.score, f.id))
    deferred: list[Fact] = []
    section_used: dict[FactKind, int] = {}
    for f in optional:
        cap = int(room * shares.get(f.kind, 0.0))
        if section_used.get(f.kind, 0) + cost[f.id] <= cap:
            section_used[f.kind] = section_used.get(f.kind, 0) + cost[f.id]
            kept.append(f)
        else:
            deferred.append(f)
    left = room - sum(section_used.values())
    dropped: list[DroppedFact] = []
    for f in deferred:  # still best first
        if cost[f.id] <= left:
            left -= cost[f.id]
            kept.append(f)
        else:
            dropped.append(DroppedFact(id=f.id, kind=f.kind, reason=f"token_budget ({cost[f.id]} tokens)"))

    order = {k: i for i, k in enumerate(SECTION_ORDER)}
    kept.sort(key=lambda f: (order.get(f.kind, len(order)), not f.required, -f.score, f.id))
    return BudgetResult(facts=kept, dropped=dropped, token_count=sum(cost[f.id] for f in kept), notes=notes)
