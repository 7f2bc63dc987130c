"""The LLM generator: all N variants of a channel in one structured (tool) call, validated, re-asked."""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Literal

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel

from copyloom.config import Settings
from copyloom.domain.enums import Channel
from copyloom.errors import ModelError, ModelTimeout
from copyloom.genai.chat import bare_model_name, price_for, priced_usage
from copyloom.genai.messages import render_generation_prompt, render_refine_prompt
from copyloom.genai.structured import check_variants, describe_parse_error, to_variants, variants_model
from copyloom.genai.types import GenerationRequest, GenerationResult, GeneratorInfo, RefineRequest, Usage
from copyloom.prompts import RenderedPrompt
from copyloom.retrieval.facts import FactsBundle

__all__ = ["LlmGenerator"]

log = logging.getLogger(__name__)
_MAX_ECHO = 4000  # characters of a bad answer echoed back in a re-ask and kept in error details


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

    def __init__(self, chat_model: BaseChatModel, *, model_name: str, settings: Settings) -> None:
        self._chat = chat_model
        self._model = bare_model_name(model_name)
        self._settings = settings
        self._price = price_for(settings, model_name)

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
        runnable = self._chat.with_structured_output(schema, method="function_calling", include_raw=True)
        base = _to_langchain(prompt)
        messages = list(base)
        usage = Usage()
        started = time.perf_counter()
        last_output = ""
        problems: list[str] = []
        max_attempts = self._settings.llm_max_reasks + 1
        for attempt in range(1, max_attempts + 1):
            details: dict[str, Any] = {"attempts": attempt, "model": self._model}
            try:
                out: Any = await runnable.ainvoke(messages)
            except openai.APITimeoutError as exc:
                details["usage"] = usage.model_dump(mode="json")
                raise ModelTimeout(
                    f"the model did not answer within {self._settings.llm_timeout_s}s", details=details
                ) from exc
            except openai.APIStatusError as exc:
                details |= {"usage": usage.model_dump(mode="json"), "status": exc.status_code}
                code = "model_rate_limited" if exc.status_code == 429 else "model_http_error"
                raise ModelError(
                    f"the model server answered HTTP {exc.status_code}", code=code, details=details
                ) from exc
            except openai.APIConnectionError as exc:
                details["usage"] = usage.model_dump(mode="json")
                raise ModelError(
                    "the model server could not be reached", code="model_unreachable", details=details
                ) from exc
            raw: AIMessage = out["raw"]
            usage = usage + self._usage(raw)
            last_output = _raw_output(raw)
            refusal = raw.additional_kwargs.get("refusal")
            finish = (raw.response_metadata or {}).get("finish_reason")
            if refusal or finish == "content_filter":
                details |= {"usage": usage.model_dump(mode="json"), "refusal": str(refusal or finish)[:1000]}
                raise ModelError("the model refused to write this message", code="model_refused", details=details)
            parsed: BaseModel | None = out["parsed"]
            if parsed is None:
                problems = [_unparsed_problem(raw, out.get("parsing_error"), schema.__name__)]
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
