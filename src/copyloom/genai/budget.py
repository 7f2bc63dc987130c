"""Per-workspace daily budgets for language-model use, backed by the usage ledger.

A day is the UTC calendar day. The limit is the brand's ``policies.llm_daily_*`` when set, else the process
settings; ``None`` everywhere means unlimited. ``check_budget`` runs BEFORE a model call, so an exhausted
budget answers 429 ``budget_exhausted`` without spending anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from copyloom.config import Settings
from copyloom.contracts.brand import BrandPolicies
from copyloom.domain.brand import load_brand_policies
from copyloom.errors import RateLimited
from copyloom.genai.types import GenerationResult
from copyloom.models import UsageRecord

__all__ = ["BudgetStatus", "budget_status", "check_budget", "record_usage"]


@dataclass(frozen=True)
class BudgetStatus:
    day_start: datetime
    tokens_used: int
    cost_used_usd: Decimal
    token_limit: int | None
    cost_limit_usd: Decimal | None

    @property
    def exhausted(self) -> bool:
        over_tokens = self.token_limit is not None and self.tokens_used >= self.token_limit
        over_cost = self.cost_limit_usd is not None and self.cost_used_usd >= self.cost_limit_usd
        return over_tokens or over_cost


def _limits(
    session: Session, workspace_id: str, settings: Settings, policies: BrandPolicies | None = None
) -> tuple[int | None, Decimal | None]:
    tokens, cost = settings.llm_daily_token_budget, settings.llm_daily_cost_budget_usd
    if policies is None:
        policies = load_brand_policies(session, workspace_id)
    if policies.llm_daily_token_budget is not None:
        tokens = policies.llm_daily_token_budget
    if policies.llm_daily_cost_budget_usd is not None:
        cost = policies.llm_daily_cost_budget_usd
    return tokens, (Decimal(str(cost)) if cost is not None else None)


def _day_start(now: datetime) -> datetime:
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def budget_status(session: Session, workspace_id: str, settings: Settings, now: datetime) -> BudgetStatus:
    day_start = _day_start(now)
    tokens, cost = session.execute(
        select(
            func.coalesce(func.sum(UsageRecord.total_tokens), 0),
            func.coalesce(func.sum(UsageRecord.cost_usd), 0),
        ).where(
            UsageRecord.workspace_id == workspace_id,
            UsageRecord.created_at >= day_start,
            UsageRecord.created_at < day_start + timedelta(days=1),
        )
    ).one()
    token_limit, cost_limit = _limits(session, workspace_id, settings)
    return BudgetStatus(day_start, int(tokens), Decimal(str(cost)), token_limit, cost_limit)


def check_budget(
    session: Session, workspace_id: str, settings: Settings, now: datetime, *, policies: BrandPolicies | None = None
) -> BudgetStatus:
    """Raise ``RateLimited(code="budget_exhausted")`` when today's budget is spent; else the status.

    With no limit at all (the default) the ledger is not summed (the status then says 0 used): the sum grows with
    the day's usage rows and ran once per drafted customer of a campaign. Callers that hold the brand's policies
    (a cached brand kit) pass them to save reading the brand kit again."""
    token_limit, cost_limit = _limits(session, workspace_id, settings, policies)
    if token_limit is None and cost_limit is None:
        return BudgetStatus(_day_start(now), 0, Decimal("0"), None, None)
    status = budget_status(session, workspace_id, settings, now)
    if status.exhausted:
        raise RateLimited(
            "the workspace's daily language-model budget is exhausted; it resets at 00:00 UTC",
            code="budget_exhausted",
            details={
                "tokens_used": status.tokens_used,
                "token_limit": status.token_limit,
                "cost_used_usd": str(status.cost_used_usd),
                "cost_limit_usd": str(status.cost_limit_usd) if status.cost_limit_usd is not None else None,
                "resets_at": (status.day_start + timedelta(days=1)).isoformat(),
            },
        )
    return status


def record_usage(
    session: Session,
    workspace_id: str,
    result: GenerationResult,
    *,
    operation: Literal["generate", "refine"],
    channel: str | None = None,
    draft_id: str | None = None,
    now: datetime | None = None,
    flush: bool = True,
) -> UsageRecord:
    """Add one ledger row for ``result`` (flushed unless ``flush=False``, for a caller that flushes many rows at
    once; never committed: the caller owns the transaction)."""
    record = UsageRecord(
        workspace_id=workspace_id,
        operation=operation,
        generator_kind=result.generator.kind,
        model=result.generator.model,
        prompt_name=result.generator.prompt_name,
        prompt_version=result.generator.prompt_version,
        channel=channel,
        draft_id=draft_id,
        prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens,
        total_tokens=result.usage.total_tokens,
        cost_usd=result.usage.cost_usd,
        attempts=result.attempts,
        latency_ms=result.latency_ms,
    )
    if now is not None:
        record.created_at = now
    session.add(record)
    if flush:
        session.flush()
    return record
