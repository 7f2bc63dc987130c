"""Choosing the generator from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable

from copyloom.config import Settings
from copyloom.genai.chat import LoopChatModels, throttle_for
from copyloom.genai.llm import LlmGenerator
from copyloom.genai.offline import OfflineGenerator
from copyloom.genai.types import Generator

__all__ = ["GENERATORS", "build_generator", "close_generator"]

log = logging.getLogger(__name__)


def _offline(settings: Settings) -> Generator:
    return OfflineGenerator()


def _llm(settings: Settings) -> Generator:
    assert settings.llm_model is not None
    # One chat model per event loop (connection pools are per loop), one throttle per endpoint for the process.
    return LlmGenerator(
        LoopChatModels(settings), model_name=settings.llm_model, settings=settings, throttle=throttle_for(settings)
    )


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


def close_generator(generator: Generator) -> None:
    """Close what :func:`build_generator` opened (the LLM generator's HTTP sessions, each on its own loop), from a
    thread that runs none of those loops: an engine's shutdown. The offline generator holds nothing."""
    if isinstance(generator, LlmGenerator):
        generator.close()
