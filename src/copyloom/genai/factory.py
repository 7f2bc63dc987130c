"""Choosing the generator from settings, and running it within the workspace's daily budget."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from copyloom.config import Settings
from copyloom.genai.budget import check_budget, record_usage
from copyloom.genai.chat import build_chat_model
from copyloom.genai.llm import LlmGenerator
from copyloom.genai.offline import OfflineGenerator
from copyloom.genai.types import GenerationRequest, GenerationResult, Generator, RefineRequest

__all__ = ["GENERATORS", "build_generator", "generate_within_budget", "refine_within_budget"]

log = logging.getLogger(__name__)


def _offline(settings: Settings) -> Generator:
    return OfflineGenerator()


def _llm(settings: Settings) -> Generator:
    assert settings.llm_model is not None
    return LlmGenerator(build_chat_model(settings), model_name=settings.llm_model, settings=settings)


GENERATORS: dict[str, Callable[[Settings], Generator]] = {"offline": _offline, "llm": _llm}


def build_generator(settings: Settings) -> Generator:
    """The offline generator when ``llm_model`` is unset, else the LLM generator (built once, at startup)."""
    name = "llm" if settings.llm_model else "offline"
    generator = GENERATORS[name](settings)
    log.info(
        "genai.generator.built",
        extra={"generator": name, "model": settings.llm_model, "base_url": settings.llm_base_url},
    )
    return generator


async def generate_within_budget(
    session: Session,
    workspace_id: str,
    generator: Generator,
    request: GenerationRequest,
    settings: Settings,
    now: datetime,
    *,
    draft_id: str | None = None,
) -> GenerationResult:
    """Check the budget (LLM only, before any call), generate, and record the usage in the ledger."""
    if generator.kind == "llm":
        check_budget(session, workspace_id, settings, now)
    result = await generator.generate(request)
    record_usage(
        session,
        workspace_id,
        result,
        operation="generate",
        channel=request.channel.value,
        draft_id=draft_id,
        now=now,
    )
    return result


async def refine_within_budget(
    session: Session,
    workspace_id: str,
    generator: Generator,
    request: RefineRequest,
    settings: Settings,
    now: datetime,
    *,
    draft_id: str | None = None,
) -> GenerationResult:
    if generator.kind == "llm":
        check_budget(session, workspace_id, settings, now)
    result = await generator.refine(request)
    record_usage(
        session,
        workspace_id,
        result,
        operation="refine",
        channel=request.channel.value,
        draft_id=draft_id,
        now=now,
    )
    return result
