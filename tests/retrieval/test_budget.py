"""Token budget: required facts always stay, the lowest-ranked go first, and every drop is recorded."""

from __future__ import annotations

from copyloom.contracts.facts import Fact, FactKind, FactSource
from copyloom.contracts.tokens import get_token_counter
from copyloom.retrieval.budget import fact_line, fit_to_budget

SRC = FactSource(table="t", row_id="1", workspace_id="w")


def _fact(fid: str, kind: FactKind, score: float, required: bool = False, words: int = 20) -> Fact:
    return Fact(id=fid, kind=kind, text=" ".join(["word"] * words), source=SRC, score=score, required=required)


def test_required_facts_survive_a_budget_they_exceed() -> None:
    counter = get_token_counter(None)
    facts = [_fact("offer:A", FactKind.OFFER, 1.0, required=True, words=200), _fact("product:x", FactKind.PRODUCT, 0.9)]
    result = fit_to_budget(facts, 50, counter)
    assert [f.id for f in result.facts] == ["offer:A"]
    assert [d.id for d in result.dropped] == ["product:x"]
    assert result.notes  # says the required facts alone exceed the budget


def test_lowest_ranked_are_dropped_first_and_recorded() -> None:
    counter = get_token_counter(None)
    facts = [_fact(f"product:{i}", FactKind.PRODUCT, score=i / 10) for i in range(10)]
    cost = counter.count_tokens(fact_line(facts[0]))
    result = fit_to_budget(facts, cost * 4, counter)
    kept = {f.id for f in result.facts}
    assert kept == {"product:9", "product:8", "product:7", "product:6"}
    assert {d.id for d in result.dropped} == {f"product:{i}" for i in range(6)}
    assert all(d.reason.startswith("token_budget") for d in result.dropped)
    assert result.token_count <= cost * 4


def test_unused_section_share_goes_to_the_best_remaining_facts() -> None:
    counter = get_token_counter(None)
    # only products: their own share is a quarter, but the other sections' unused room is pooled for them
    facts = [_fact(f"product:{i}", FactKind.PRODUCT, score=0.5) for i in range(3)]
    result = fit_to_budget(facts, 1000, counter)
    assert len(result.facts) == 3 and not result.dropped
