"""The one factory for LangChain chat models, and what their tokens cost."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from copyloom.config import ModelPrice, Settings
from copyloom.errors import InvalidInput
from copyloom.genai.direct import DirectChatModel
from copyloom.genai.loop import PerLoop, run_to_end
from copyloom.genai.throttle import LocalRateLimiter, ModelThrottle, RateLimiter
from copyloom.genai.types import Usage

if TYPE_CHECKING:
    from copyloom.genai.ratelimit_redis import RedisRateLimiter

__all__ = ["LoopChatModels", "bare_model_name", "build_chat_model", "cost_usd", "price_for", "throttle_for"]

# Providers that speak the OpenAI chat-completions protocol (vLLM, Ollama, llama.cpp, … through base_url).
_OPENAI_COMPATIBLE = {"openai", "openai_compatible", "vllm", "ollama", "llamacpp", "lmstudio"}
_MTOK = Decimal(1_000_000)


def bare_model_name(model: str) -> str:
    """``"openai:gpt-4o-mini"`` → ``"gpt-4o-mini"``; names without a provider prefix stay as they are."""
    provider, sep, rest = model.partition(":")
    if sep and provider.lower() in _OPENAI_COMPATIBLE:
        return rest
    return model


def build_chat_model(settings: Settings, *, http_async_client: httpx.AsyncClient | None = None) -> BaseChatModel:
    """A ``ChatOpenAI`` for ``settings.llm_model``, always with a timeout and ``max_retries=0``: the generator
    retries 429, 5xx, timeouts and connection errors itself (jittered backoff, ``Retry-After``, the throttle).

    Its async connection pool belongs to the event loop that first uses it: build one per loop
    (:class:`LoopChatModels`) and pass ``http_async_client`` so that langchain-openai's process-wide cached client
    is never shared between loops.
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
        max_retries=0,
        temperature=0.7,
        http_async_client=http_async_client,
    )


class LoopChatModels(PerLoop[DirectChatModel]):
    """One chat model per event loop, each with its own pooled, kept-alive HTTP connections: a
    :class:`~copyloom.genai.direct.DirectChatModel`, which posts the generator's tool calls without the SDK layers
    of ``ChatOpenAI`` (about 9 ms of CPU a call) and answers as it does.

    An HTTP client (``aiohttp``'s session, ``httpx.AsyncClient``, a ``ChatOpenAI``) may only be used on the loop it
    was first used on. A process runs its model calls on long-lived loops (the server's, the background loop of
    workers and the CLI), so each gets one session whose connections are reused call after call; a short-lived loop
    (``asyncio.run`` in a script) gets its own. Each session is closed on its own loop when that loop ends, or by
    ``close()`` / ``aclose()`` (see :class:`~copyloom.genai.loop.PerLoop`); the next call opens a new one.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        super().__init__(self._open, _close_session, _abandon_session)
        build_chat_model(settings)  # validate the settings now (unsupported provider, no model), not on first call

    def _open(self) -> DirectChatModel:
        return DirectChatModel(self._settings, DirectChatModel.open_session(self._settings))

    def __call__(self) -> DirectChatModel:
        return self.get()


async def _close_session(model: DirectChatModel) -> None:
    await model.session.close()


def _abandon_session(model: DirectChatModel) -> None:
    """Its loop was closed without shutting down: aiohttp can close nothing on it any more. The session is detached
    and its connector marked closed (closing on a closed loop awaits nothing), so neither reports itself unclosed;
    asyncio closes the sockets with the transports that hold them."""
    connector = model.session.connector
    model.session.detach()
    if connector is not None:
        run_to_end(connector.close())


_THROTTLES: dict[tuple[str, str], ModelThrottle] = {}
_THROTTLES_LOCK = threading.Lock()


def throttle_for(settings: Settings) -> ModelThrottle:
    """The process's one throttle for this model endpoint (base URL and model), shared by every loop and thread."""
    key = (settings.llm_base_url or "https://api.openai.com/v1", bare_model_name(settings.llm_model or ""))
    with _THROTTLES_LOCK:
        throttle = _THROTTLES.get(key)
        if throttle is None:
            throttle = ModelThrottle(settings.model_concurrency, _rate_limiter(settings, key))
            _THROTTLES[key] = throttle
        return throttle


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


def _rate_limiter(settings: Settings, key: tuple[str, str]) -> RateLimiter | None:
    rpm, tpm = settings.model_requests_per_min, settings.model_tokens_per_min
    if not rpm and not tpm:
        return None
    broker = settings.broker_url.get_secret_value() if settings.broker_url else None
    if broker and broker.startswith(("redis://", "rediss://")):
        return _PerLoopRedisLimiter(broker, "|".join(key), rpm, tpm)
    return LocalRateLimiter(rpm, tpm)


class _PerLoopRedisLimiter:
    """The Redis-shared limiter, one client per event loop (a Redis connection belongs to the loop that opened
    it; the API process runs model calls on its server loop and on the background loop), closed on its loop when
    the loop ends."""

    def __init__(self, url: str, key: str, rpm: int | None, tpm: int | None) -> None:
        self._limiters: PerLoop[RedisRateLimiter] = PerLoop(lambda: _redis_limiter(url, key, rpm, tpm), _close_redis)

    async def acquire(self, tokens: int) -> float:
        return await self._limiters.get().acquire(tokens)


def _redis_limiter(url: str, key: str, rpm: int | None, tpm: int | None) -> RedisRateLimiter:
    from copyloom.genai.ratelimit_redis import RedisRateLimiter  # only processes with a broker need redis

    return RedisRateLimiter(url, key, rpm, tpm)


async def _close_redis(limiter: RedisRateLimiter) -> None:
    await limiter.aclose()
