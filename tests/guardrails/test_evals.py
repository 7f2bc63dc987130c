"""The labelled evaluation set meets its targets: grounding and consent catch every bad case, block no good one."""

from __future__ import annotations

import pytest
from evals.run_guardrails import eval_drafts, eval_gate, eval_injection


def test_labelled_drafts_meet_targets() -> None:
    d = eval_drafts(repeats=1)
    g = d["stats"]["grounding"]
    assert (g.caught, g.wrongly_blocked) == (g.bad, 0), (g.missed, g.false_blocks)
    for name, st in d["stats"].items():
        assert st.wrongly_blocked == 0, (name, st.false_blocks)
    assert d["overall_bad_caught"] == d["drafts"] - d["good"]


def test_gate_cases_meet_targets() -> None:
    g = eval_gate()
    assert (g["caught"], g["wrongly_blocked"], g["wrong_reason"]) == (g["bad"], 0, [])


def test_benign_emails_as_notes_are_rarely_flagged() -> None:
    rates = eval_injection()
    if rates is None:
        pytest.skip("../shared/data/prompt_injection is not beside this clone")
    flagged, total = rates["bipia benign emails"]
    assert flagged <= 0.05 * total
