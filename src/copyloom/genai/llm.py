"""The LLM generator: all N variants of a channel in one structured (tool) call, validated, re-asked."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any, Literal

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from copyloom.config import Settings
from copyloom.contracts.enums import Channel
from copyloom.contracts.facts import FactsBundle
from copyloom.errors import ModelError, ModelTimeout
from copyloom.genai.answers import MALFORMED, tool_answer, tool_for
from copyloom.genai.chat import LoopChatModels, bare_model_name, price_for, priced_usage
from copyloom.genai.direct import DirectChatModel
from copyloom.genai.messages import render_generation_prompt, render_refine_prompt
from copyloom.genai.structured import check_variants, describe_parse_error, to_variants, variants_model
from copyloom.genai.throttle import ModelThrottle
from copyloom.genai.types import GenerationRequest, GenerationResult, GeneratorInfo, RefineRequest, Usage
from copyloom.prompts import RenderedPrompt

__all__ = ["LlmGenerator"]

log = logging.getLogger(__name__)
# A LangChain chat model, or the direct client that the factory uses (same answers, less CPU: genai/direct.py).
ChatModel = BaseChatModel | DirectChatModel
_MAX_ECHO = 4000  # characters of a bad answer echoed back in a re-ask and kept in error details
_BACKOFF_BASE_S = 0.5
_BACKOFF_CAP_S = 20.0
# Statuses worth another try: the server was busy, failing or timed out; anything else 4xx will not get better.
_RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class _Malformed(Exception):
    """The server answered, but not with a chat completion (no choices, no message, HTML, not JSON, …)."""


def retry_after_s(exc: openai.APIStatusError) -> float | None:
    """The server's ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms``, if it sent one."""
    headers = exc.response.headers
    millis = headers.get("retry-after-ms")
    try:
        if millis is not None:
            return max(0.0, float(millis) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def backoff_s(retry: int, retry_after: float | None) -> float:
    """Full jitter over an exponential step (AWS's recommendation), never less than the server asked for."""
    step = random.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2 ** (retry - 1)))
    return max(step, retry_after or 0.0)


def _estimate_tokens(messages: list[BaseMessage], n: int) -> int:
    """What a call will cost against a tokens-per-minute budget: ~4 characters a token in, ~300 out per variant."""
    return sum(len(str(m.content)) for m in messages) // 4 + 300 * n


def _to_langchain(prompt: RenderedPrompt) -> list[BaseMessage]:
    return [SystemMessage(m.content) if m.role == "system" else HumanMessage(m.content) for m in prompt.messages]


def _raw_output(raw: AIMessage) -> str:
    """What the model actually sent: tool-call arguments (valid or not), else its text."""
    if raw.tool_calls:
        return json.dumps([c["args"] for c in raw.tool_calls], ensure_ascii=False)[:_MAX_ECHO]
    if raw.invalid_tool_calls:
        return "\n".join(str(c.get("args") or "") for c in raw.invalid_tool_calls)[:_MAX_ECHO]
    return str(raw.content)[:_MAX_ECHO]


def _unparsed_problem(raw: AIMessage, error: object, tool: str) -> str:
    if error:
        return describe_parse_error(error)
    if raw.invalid_tool_calls:
        reason = raw.invalid_tool_calls[0].get("error") or "not valid JSON"
        return f"the arguments of {tool} could not be read ({str(reason)[:200]}); send valid JSON"
    return f"no call of the tool {tool}: answer only by calling it"


class LlmGenerator:
    """Generates through any LangChain chat model (``build_chat_model`` makes a ``ChatOpenAI``).

    One call returns all N variants via a tool whose schema is ``{variants: [...] × N}``. An answer that does
    not validate (schema, unknown fact ids, channel limits, repeated angles) is re-asked with the problems, at
    most ``llm_max_reasks`` times; then ``ModelError`` carries attempts, usage and the last output.
    """

    def __init__(
        self,
        chat_model: ChatModel | Callable[[], ChatModel],
        *,
        model_name: str,
        settings: Settings,
        throttle: ModelThrottle | None = None,
    ) -> None:
        # A model, or a provider of the running loop's model (``LoopChatModels``: connection pools are per loop).
        self._chat = chat_model
        self._model = bare_model_name(model_name)
        self._settings = settings
        self._price = price_for(settings, model_name)
        self.throttle = throttle or ModelThrottle(settings.model_concurrency)
        # (chat model, tool schema) -> its structured-output runnable: building one turns the schema into an
        # OpenAI tool (pydantic JSON schema generation, ~1.5 ms) and is the same for every call on that loop.
        self._runnables: dict[tuple[int, type[BaseModel]], tuple[ChatModel, Any]] = {}

    def _chat_model(self) -> ChatModel:
        return self._chat if isinstance(self._chat, BaseChatModel | DirectChatModel) else self._chat()

    async def aclose(self) -> None:
        """Close the HTTP sessions of a per-loop provider (``LoopChatModels``), each on its own loop; a model
        passed in belongs to its caller. The next call opens a new session."""
        if isinstance(self._chat, LoopChatModels):
            await self._chat.aclose()
        self._runnables.clear()

    def close(self) -> None:
        """As :meth:`aclose`, from a thread that runs none of the loops."""
        if isinstance(self._chat, LoopChatModels):
            self._chat.close()
        self._runnables.clear()

    @property
    def kind(self) -> Literal["offline", "llm"]:
        return "llm"

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        prompt = render_generation_prompt(request)
        return await self._run(
            prompt,
            request.channel,
            request.n_variants,
            request.bundle,
            locale=request.bundle.locale,
            whatsapp_template_only=request.whatsapp_template_only,
        )

    async def refine(self, request: RefineRequest) -> GenerationResult:
        prompt = render_refine_prompt(request)
        return await self._run(
            prompt,
            request.channel,
            1,
            request.bundle,
            locale=request.target_locale or request.bundle.locale,
            whatsapp_template_only=request.whatsapp_template_only,
        )

    def _structured(self, chat: ChatModel, schema: type[BaseModel]) -> Any:
        """``chat`` bound to call the schema's tool, built once per (model, schema).

        This is what ``with_structured_output(method="function_calling")`` binds, without its tracing metadata
        (which turns the schema into JSON schema again on every call) and without its output parser's thread
        hop: :func:`~copyloom.genai.answers.tool_answer` validates the tool call's arguments."""
        key = (id(chat), schema)
        hit = self._runnables.get(key)
        if hit is not None and hit[0] is chat:  # the id of a collected model can be reused: compare the object
            return hit[1]
        tool = tool_for(schema)
        runnable = chat.bind_tools([tool], tool_choice=tool["function"]["name"], parallel_tool_calls=False)
        if len(self._runnables) > 256:
            self._runnables.clear()
        self._runnables[key] = (chat, runnable)
        return runnable

    def _usage(self, raw: AIMessage) -> Usage:
        meta = raw.usage_metadata
        if meta is None:  # some OpenAI-compatible servers send no usage: recorded as 0, not guessed
            return Usage()
        return priced_usage(self._price, meta["input_tokens"], meta["output_tokens"])

    async def _run(
        self,
        prompt: RenderedPrompt,
        channel: Channel,
        n: int,
        bundle: FactsBundle,
        *,
        locale: str,
        whatsapp_template_only: bool,
    ) -> GenerationResult:
        schema = variants_model(channel, n)
        runnable = self._structured(self._chat_model(), schema)
        base = _to_langchain(prompt)
        messages = list(base)
        usage = Usage()
        started = time.perf_counter()
        last_output = ""
        problems: list[str] = []
        max_attempts = self._settings.llm_max_reasks + 1
        estimate = _estimate_tokens(base, n)
        for attempt in range(1, max_attempts + 1):
            details: dict[str, Any] = {"attempts": attempt, "model": self._model}
            try:
                out = await self._invoke(runnable, messages, estimate, details, usage)
            except _Malformed as exc:
                last_output = str(exc)[:_MAX_ECHO]
                problems = [f"the server's answer was not a usable chat completion: {last_output[:300]}"]
                log.warning(
                    "genai.llm.malformed_answer",
                    extra={"model": self._model, "attempt": attempt, "channel": channel.value, "error": last_output},
                )
                messages = list(base)  # nothing the model said can be echoed back: ask again
                continue
            if not isinstance(out, AIMessage):
                last_output = repr(out)[:_MAX_ECHO]
                problems = ["the server's answer had no message"]
                messages = list(base)
                continue
            raw = out
            usage = usage + self._usage(raw)
            last_output = _raw_output(raw)
            refusal = raw.additional_kwargs.get("refusal")
            finish = (raw.response_metadata or {}).get("finish_reason")
            if refusal or finish == "content_filter":
                details |= {"usage": usage.model_dump(mode="json"), "refusal": str(refusal or finish)[:1000]}
                raise ModelError("the model refused to write this message", code="model_refused", details=details)
            parsed, parsing_error = tool_answer(raw, schema)
            if parsed is None:
                problems = [_unparsed_problem(raw, parsing_error, schema.__name__)]
                variants = []
            else:
                variants = to_variants(parsed)
                problems = check_variants(
                    variants, bundle, locale=locale, whatsapp_template_only=whatsapp_template_only
                )
            log.info(
                "genai.llm.attempt",
                extra={
                    "model": self._model,
                    "attempt": attempt,
                    "channel": channel.value,
                    "n": n,
                    "valid": not problems,
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                },
            )
            if not problems:
                return GenerationResult(
                    variants=variants,
                    generator=self._info(prompt, locale),
                    usage=usage,
                    attempts=attempt,
                    latency_ms=(time.perf_counter() - started) * 1000,
                )
            messages = [*base, HumanMessage(self._reask_text(schema.__name__, n, problems, last_output))]
        raise ModelError(
            f"the model gave no valid answer in {max_attempts} attempt(s)",
            code="model_invalid_output",
            details={
                "attempts": max_attempts,
                "model": self._model,
                "usage": usage.model_dump(mode="json"),
                "problems": problems[:20],
                "last_output": last_output,
            },
        )

    async def _invoke(
        self, runnable: Any, messages: list[BaseMessage], tokens: int, details: dict[str, Any], usage: Usage
    ) -> Any:
        """One model answer: waits for a slot and the rate budget; retries 429, 5xx, timeouts and connection
        errors ``llm_max_retries`` times (a 429 ``llm_max_rate_limit_retries`` times) with jittered backoff, never
        sooner than the server's ``Retry-After``; a 429 also halves this process's requests in flight. Raises ``_Malformed`` for an answer that is no chat completion."""
        retries = self._settings.llm_max_retries
        limited_retries = self._settings.llm_max_rate_limit_retries
        retry = limited = 0
        while True:
            wait_after: float | None = None
            await self.throttle.acquire(tokens)
            ok = False
            try:
                out = await runnable.ainvoke(messages)
                ok = True
                return out
            except openai.APITimeoutError as exc:
                retry += 1
                if retry > retries:
                    details |= {"usage": usage.model_dump(mode="json"), "retries": retry}
                    raise ModelTimeout(
                        f"the model did not answer within {self._settings.llm_timeout_s}s", details=details
                    ) from exc
            except openai.APIStatusError as exc:
                status = exc.status_code
                if status == 429:
                    wait_after = retry_after_s(exc)
                    self.throttle.on_rate_limited(wait_after)
                    limited += 1
                else:
                    retry += 1
                if status not in _RETRYABLE_STATUS or retry > retries or limited > limited_retries:
                    details |= {"usage": usage.model_dump(mode="json"), "status": status, "retries": retry + limited}
                    code = "model_rate_limited" if status == 429 else "model_http_error"
                    raise ModelError(f"the model server answered HTTP {status}", code=code, details=details) from exc
            except openai.APIConnectionError as exc:
                retry += 1
                if retry > retries:
                    details |= {"usage": usage.model_dump(mode="json"), "retries": retry}
                    raise ModelError(
                        "the model server could not be reached", code="model_unreachable", details=details
                    ) from exc
            except MALFORMED as exc:
                # A 200 that is not a chat completion: empty or missing choices, message null, HTML, not JSON …
                # The transport worked; the answer did not (answers.failure_code: model_invalid_output).
                ok = True  # the server is not overloaded: do not count it against the throttle
                raise _Malformed(f"{type(exc).__name__}: {exc}") from exc
            finally:
                self.throttle.release(ok=ok)
            await asyncio.sleep(backoff_s(retry + limited, wait_after))

    @staticmethod
    def _reask_text(tool: str, n: int, problems: list[str], last_output: str) -> str:
        listed = "\n".join(f"- {p}" for p in problems[:20])
        return (
            f"Your previous answer could not be used:\n{listed}\n\nYour previous answer was:\n{last_output}\n\n"
            f"Call {tool} again with all {n} variant(s), fixing every problem above."
        )

    def _info(self, prompt: RenderedPrompt, locale: str) -> GeneratorInfo:
        notes = []
        if self._price is None:
            notes.append(f"no price configured for model {self._model!r}: cost recorded as 0")
        return GeneratorInfo(
            kind="llm",
            model=self._model,
            prompt_name=prompt.name,
            prompt_version=prompt.version,
            prompt_sha256=prompt.sha256,
            prompt_parts=prompt.parts,
            locale=locale,
            notes=notes,
        )
