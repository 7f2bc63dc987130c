"""The one factory for LangChain chat models, and what their tokens cost."""

from __future__ import annotations

from decimal import Decimal

from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from copyloom.config import ModelPrice, Settings
from copyloom.errors import InvalidInput
from copyloom.genai.types import Usage

__all__ = ["bare_model_name", "build_chat_model", "cost_usd", "price_for"]

# Providers that speak the OpenAI chat-completions protocol (vLLM, Ollama, llama.cpp, … through base_url).
_OPENAI_COMPATIBLE = {"openai", "openai_compatible", "vllm", "ollama", "llamacpp", "lmstudio"}
_MTOK = Decimal(1_000_000)


def bare_model_name(model: str) -> str:
    """``"openai:gpt-4o-mini"`` → ``"gpt-4o-mini"``; names without a provider prefix stay as they are."""
    provider, sep, rest = model.partition(":")
    if sep and provider.lower() in _OPENAI_COMPATIBLE:
        return rest
    return model


def build_chat_model(settings: Settings) -> BaseChatModel:
    """A ``ChatOpenAI`` for ``settings.llm_model``, always with a timeout and a bounded retry count.

    The openai client retries connection errors, 408, 409, 429 and 5xx with exponential backoff (honouring
    ``retry-after``) up to ``llm_max_retries`` times.
    """
    if not settings.llm_model:
        raise InvalidInput("no language model configured (COPYLOOM_LLM_MODEL)", field="llm_model")
    provider, sep, _ = settings.llm_model.partition(":")
    if sep and provider.lower() not in _OPENAI_COMPATIBLE and "/" not in provider:
        raise InvalidInput(
            f"unsupported provider {provider!r}: use an OpenAI-compatible server via COPYLOOM_LLM_BASE_URL",
            field="llm_model",
        )
    api_key: str | None = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    if api_key is None and settings.llm_base_url:
        api_key = "not-needed"  # local servers accept any key, but the openai client insists on one
    return ChatOpenAI(
        model=bare_model_name(settings.llm_model),
        base_url=settings.llm_base_url,
        api_key=api_key,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        temperature=0.7,
    )


def price_for(settings: Settings, model: str | None) -> ModelPrice | None:
    if not model:
        return None
    return settings.llm_prices.get(bare_model_name(model))


def cost_usd(price: ModelPrice | None, prompt_tokens: int, completion_tokens: int) -> Decimal:
    if price is None:
        return Decimal("0")
    cost = (
        Decimal(str(price.input_per_mtok)) * prompt_tokens + Decimal(str(price.output_per_mtok)) * completion_tokens
    ) / _MTOK
    return cost.quantize(Decimal("0.00000001"))


def priced_usage(price: ModelPrice | None, prompt_tokens: int, completion_tokens: int) -> Usage:
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
        cost_usd=cost_usd(price, prompt_tokens, completion_tokens),
    )
