"""Reading a model's answer, once for every caller: the generator and the support judge.

- :func:`parse_completion` reads the first choice of a chat-completions body (what ``DirectChatModel`` received)
  into the ``AIMessage`` that ``ChatOpenAI`` would have made; a 200 that is no chat completion (HTML, not JSON,
  no or empty ``choices``, ``message: null``, an ``error`` object) raises :class:`MalformedAnswer`.
- :func:`tool_answer` is the first call of a tool in that message, validated against its schema (or why not), or
  the arguments a model wrote as JSON text instead of calling the tool (:func:`content_arguments`);
  :func:`require_tool_answer` raises :class:`MalformedAnswer` when there is none (no tool call, text only, a
  message with no content at all, arguments that are not JSON or do not validate).
- :func:`failure_code` names any failure of a model call: ``model_invalid_output`` for an answer that came back
  but cannot be used (:data:`MALFORMED`), ``model_timeout`` / ``model_rate_limited`` / ``model_http_error`` /
  ``model_unreachable`` for the transport, ``model_error`` for anything else.
"""

from __future__ import annotations

import contextlib
import json
import re
from functools import lru_cache
from typing import Any, TypeVar

import openai
from langchain_core.messages import AIMessage
from langchain_core.messages.tool import invalid_tool_call, tool_call
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ValidationError

__all__ = [
    "MALFORMED",
    "MalformedAnswer",
    "content_arguments",
    "failure_code",
    "parse_completion",
    "require_tool_answer",
    "tool_answer",
    "tool_for",
]

M = TypeVar("M", bound=BaseModel)


class MalformedAnswer(ValueError):
    """The server answered, but not with a usable chat completion (no choices, no message, HTML, not JSON, …)."""


# What a model call raises when the transport worked and the answer did not: ours, and what ``ChatOpenAI`` and the
# openai SDK raise for the same bodies (json.JSONDecodeError and pydantic's ValidationError are ValueErrors,
# IndexError/KeyError LookupErrors, ``message: null`` an AttributeError or TypeError there).
MALFORMED: tuple[type[Exception], ...] = (
    openai.APIResponseValidationError,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
)


def failure_code(exc: BaseException) -> str:
    """The machine code of a failed model call (see the module's docstring)."""
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError, its base class
        return "model_timeout"
    if isinstance(exc, openai.APIStatusError):
        return "model_rate_limited" if exc.status_code == 429 else "model_http_error"
    if isinstance(exc, openai.APIConnectionError):
        return "model_unreachable"
    if isinstance(exc, MALFORMED):
        return "model_invalid_output"
    return "model_error"


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedAnswer(f"{what} is {type(value).__name__}, not an object")
    return value


def parse_completion(content: bytes | str) -> AIMessage:
    """The first choice of a chat-completions answer as LangChain's ``ChatOpenAI`` reads it."""
    try:
        data = _object(json.loads(content), "a chat completion")
    except ValueError as exc:  # HTML or text (JSONDecodeError), or not an object
        raise MalformedAnswer(f"not a chat completion: {exc}") from exc
    if data.get("error"):
        raise MalformedAnswer(str(data["error"])[:500])
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise MalformedAnswer(f"'choices' is {json.dumps(choices)[:100]}, not a list of at least one choice")
    choice = _object(choices[0], "the first choice")
    message = _object(choice.get("message"), "'message'")
    calls, invalid = [], []
    for raw in message.get("tool_calls") or []:
        function = raw.get("function") if isinstance(raw, dict) else None
        if not isinstance(function, dict):
            continue
        name, arguments, call_id = function.get("name") or "", function.get("arguments"), raw.get("id")
        try:
            if isinstance(arguments, dict):  # a JSON string by the spec; some servers send the object itself
                args = arguments
            else:
                args = json.loads(arguments, strict=False) if arguments else {}
        except (json.JSONDecodeError, TypeError) as exc:
            invalid.append(invalid_tool_call(name=name, args=arguments, id=call_id, error=f"not valid JSON: {exc}"))
            continue
        if isinstance(args, dict):
            calls.append(tool_call(name=name, args=args, id=call_id))
        else:
            invalid.append(invalid_tool_call(name=name, args=arguments, id=call_id, error="arguments not an object"))
    extra: dict[str, Any] = {}
    if message.get("refusal"):
        extra["refusal"] = message["refusal"]
    usage = data.get("usage")
    usage_metadata = None
    if isinstance(usage, dict):
        prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        usage_metadata = {
            "input_tokens": prompt,
            "output_tokens": completion,
            "total_tokens": int(usage.get("total_tokens") or prompt + completion),
        }
    return AIMessage(
        content=message.get("content") or "",
        tool_calls=calls,
        invalid_tool_calls=invalid,
        additional_kwargs=extra,
        response_metadata={"finish_reason": choice.get("finish_reason"), "model_name": data.get("model")},
        usage_metadata=usage_metadata,
        id=data.get("id"),
    )


@lru_cache(maxsize=128)
def tool_for(schema: type[BaseModel]) -> dict[str, Any]:
    """The OpenAI tool whose arguments are ``schema``."""
    return convert_to_openai_tool(schema)


_THINKING = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.S)  # a reasoning model's thoughts before its answer
_FENCED = re.compile(r"```[a-zA-Z]*\s*(.*?)\s*```|<tool_call>\s*(.*?)\s*</tool_call>", re.S)


def content_arguments(content: object, name: str) -> dict[str, Any] | None:
    """The tool's arguments from a model that wrote them as text instead of calling it (servers whose tool parser
    is off, models without tool-call training, the "text" form of ``genai/direct.py``), or None.

    The text (after any ``<think>`` block) is one JSON object: whole, in a code fence or ``<tool_call>`` block, or
    in prose from its first brace. The object is the arguments, or ``{"name": name, "arguments": {…}}``."""
    if not isinstance(content, str) or "{" not in content:
        return None
    value = _first_object(_THINKING.sub("", content).strip())
    if value is None:
        return None
    inner = value.get("arguments", value.get("parameters"))
    if value.get("name") == name and isinstance(inner, str):
        with contextlib.suppress(ValueError):
            inner = json.loads(inner, strict=False)
    return inner if value.get("name") == name and isinstance(inner, dict) else value


def _first_object(text: str) -> dict[str, Any] | None:
    blocks = [next(g for g in m.groups() if g is not None) for m in _FENCED.finditer(text)]
    for candidate in ([text] if text.startswith("{") else []) + blocks:
        with contextlib.suppress(ValueError):
            value = json.loads(candidate, strict=False)
            if isinstance(value, dict):
                return value
    if "{" not in text:
        return None
    try:  # prose around a bare object
        value, _ = json.JSONDecoder(strict=False).raw_decode(text, text.index("{"))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def tool_answer(raw: AIMessage, schema: type[M]) -> tuple[M | None, ValidationError | None]:
    """The first call of ``schema``'s tool, validated against it (or why not: None, None when there is none).

    A message with no tool call at all whose text holds the arguments as JSON (:func:`content_arguments`) is read
    as that call: what a server without tool-call parsing sends for a forced tool."""
    name = tool_for(schema)["function"]["name"]
    calls = [call["args"] for call in raw.tool_calls if call["name"] == name]
    if not raw.tool_calls and not raw.invalid_tool_calls:
        args = content_arguments(raw.content, name)
        calls = [args] if args is not None else []
    for args in calls:
        try:
            return schema.model_validate(args), None
        except ValidationError as exc:
            return None, exc
    return None, None


def require_tool_answer(raw: AIMessage, schema: type[M]) -> M:
    """:func:`tool_answer`, for a caller that does not re-ask: no valid call is a :class:`MalformedAnswer`."""
    parsed, error = tool_answer(raw, schema)
    if parsed is not None:
        return parsed
    if error is not None:
        raise MalformedAnswer(f"the arguments of {schema.__name__} do not validate: {error}"[:500]) from error
    if raw.invalid_tool_calls:
        reason = raw.invalid_tool_calls[0].get("error") or "not valid JSON"
        raise MalformedAnswer(f"the arguments of {schema.__name__} could not be read: {reason}"[:500])
    raise MalformedAnswer(f"no call of {schema.__name__}; the answer's text: {str(raw.content)[:200]!r}")
