"""Daily budgets from the usage ledger: settings defaults, per-workspace overrides, UTC day boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from copyloom.config import Settings
from copyloom.errors import RateLimited
from copyloom.genai import GenerationResult, GeneratorInfo, Usage, budget_status, check_budget, record_usage
from copyloom.genai.chat import bare_model_name, cost_usd, price_for
from copyloom.models import BrandKit

NOON = datetime(2026, 5, 1, 12, tzinfo=UTC)


def spend(db: Session, workspace: str, tokens: int, cost: str, when: datetime = NOON) -> None:
    result = GenerationResult(
        variants=[],
        generator=GeneratorInfo(
            kind="llm", model="gpt-4o-mini", prompt_name="generate.sms", prompt_version=1, prompt_sha256="0" * 64
        ),
        usage=Usage(prompt_tokens=tokens, total_tokens=tokens, cost_usd=Decimal(cost)),
    )
    record_usage(db, workspace, result, operation="generate", channel="sms", now=when)


def test_unlimited_by_default(db: Session, workspace: str) -> None:
    spend(db, workspace, 10**9, "1000")
    assert not check_budget(db, workspace, Settings(), NOON).exhausted


def test_token_budget_counts_only_today_utc(db: Session, workspace: str) -> None:
    settings = Settings(llm_daily_token_budget=1000)
    spend(db, workspace, 900, "0", NOON - timedelta(days=1))
    spend(db, workspace, 999, "0")
    assert check_budget(db, workspace, settings, NOON).tokens_used == 999
    spend(db, workspace, 1, "0")
    with pytest.raises(RateLimited) as caught:
        check_budget(db, workspace, settings, NOON)
    assert caught.value.code == "budget_exhausted"
    assert caught.value.details["resets_at"] == "2026-05-02T00:00:00+00:00"
    assert not check_budget(db, workspace, settings, NOON + timedelta(days=1)).exhausted


def test_cost_budget_and_workspace_override(db: Session, workspace: str) -> None:
    spend(db, workspace, 10, "0.50")
    settings = Settings(llm_daily_cost_budget_usd=0.40)
    with pytest.raises(RateLimited):
        check_budget(db, workspace, settings, NOON)
    db.add(BrandKit(workspace_id=workspace, name="Acme", policies={"llm_daily_cost_budget_usd": 5.0}))
    db.flush()
    status = budget_status(db, workspace, settings, NOON)
    assert status.cost_limit_usd == Decimal("5.0") and not status.exhausted


def test_prices_strip_the_provider_and_unknown_models_cost_nothing() -> None:
    settings = Settings()
    assert bare_model_name("openai:gpt-4o") == "gpt-4o" and bare_model_name("qwen2.5:7b") == "qwen2.5:7b"
    assert cost_usd(price_for(settings, "openai:gpt-4o"), 1_000_000, 1_000_000) == Decimal("12.5")
    assert price_for(settings, "llama3") is None and cost_usd(None, 10**6, 10**6) == 0
