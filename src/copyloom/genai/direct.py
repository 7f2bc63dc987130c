"""Chat completions posted as plain JSON over a pooled ``aiohttp`` session: the generator's hot path.

Through ``ChatOpenAI`` a tool call cost about 9 ms of CPU besides the HTTP exchange itself (measured on a campaign,
``bench/bench_campaigns.py``): the OpenAI SDK walks the whole request, tool schema included, through its typed
transforms, builds pydantic models of the answer, and LangChain wraps the call in callbacks and run managers. The
generator needs none of that: it sends the messages and one tool, and reads the first choice. This module does only
that and answers what ``ChatOpenAI`` would, so ``LlmGenerator`` cannot tell them apart (the openai exceptions are
built from ``httpx`` objects: openai 3 annotates its vendored ``httpx2`` but reads only status and headers):

- an ``AIMessage`` with ``tool_calls`` (arguments that are not JSON become ``invalid_tool_calls``),
  ``usage_metadata``, ``additional_kwargs["refusal"]`` and ``response_metadata["finish_reason"]``;
- ``openai.APIStatusError`` (with the response, for ``Retry-After``) for an HTTP error, ``openai.APITimeoutError``
  and ``openai.APIConnectionError`` for a timeout or a broken connection;
- ``MalformedAnswer`` (a ``ValueError``, from ``answers.parse_completion``, which reads the body) for a 200 that
  is no chat completion (HTML, not JSON, no or empty ``choices``, ``message: null``), which the generator turns
  into a re-ask and then a per-channel 502.

An endpoint that rejects the tool_choice naming the tool (llama.cpp's server) is asked with ``"required"``, then
with none, and one that rejects tools (Ollama's models without tool support) with the tool's schema in the
system message, from then on (``TOOL_CHOICE_FORMS``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import aiohttp
import httpx
import openai
from langchain_core.messages import AIMessage, BaseMessage

from copyloom.config import Settings
from copyloom.errors import InvalidInput
from copyloom.genai.answers import parse_completion

__all__ = ["DirectChatModel"]

log = logging.getLogger(__name__)

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class DirectChatModel:
    """An OpenAI-compatible chat-completions endpoint, for calls that bind one tool (``bind_tools``).

    ``session`` is an ``aiohttp.ClientSession`` of the loop the calls run on: its C HTTP parser costs a tenth of
    ``httpx``'s pure-Python one per request (0.2-0.3 ms against 1.5-2.6 ms of CPU for a small exchange, measured
    against ``tests.modelserver``)."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession, *, temperature: float = 0.7) -> None:
        from copyloom.genai.chat import bare_model_name

        if not settings.llm_model:
            raise InvalidInput("no language model configured (COPYLOOM_LLM_MODEL)", field="llm_model")
        base = (settings.llm_base_url or "https://api.openai.com/v1").rstrip("/")
        self.url = f"{base}/chat/completions"
        self.model = bare_model_name(settings.llm_model)
        api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        if api_key is None:
            api_key = "not-needed"  # local servers accept any key (build_chat_model insists on one the same way)
        self.headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self.temperature = temperature
        self.session = session

    @staticmethod
    def open_session(settings: Settings) -> aiohttp.ClientSession:
        """A pooled, kept-alive session for the running loop: ``model_concurrency`` connections (and a few more),
        ``llm_timeout_s`` without a byte from the server (a hang) or to connect (at most 10 s)."""
        slots = settings.model_concurrency + 8
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=min(10.0, settings.llm_timeout_s), sock_read=settings.llm_timeout_s
        )
        connector = aiohttp.TCPConnector(limit=slots, limit_per_host=slots, keepalive_timeout=60)
        return aiohttp.ClientSession(connector=connector, timeout=timeout, skip_auto_headers=("User-Agent",))

    def bind_tools(
        self, tools: Sequence[dict[str, Any]], *, tool_choice: str, parallel_tool_calls: bool = False
    ) -> BoundTools:
        return BoundTools(self, list(tools), tool_choice, parallel_tool_calls)


# How the one tool is asked for, strictest first. Every server takes the first by the spec, but llama.cpp's server
# answers a named tool_choice 400 "Invalid tool_choice" and older vLLM rejects "required": an endpoint that rejects
# a form is asked with the next one from then on (with one tool bound, "required" still forces it, and "auto" is
# one that a model answers with the call or with its arguments as text, which ``answers.tool_answer`` reads). A
# model that takes no tools at all (Ollama: "… does not support tools") is asked in "text": no tools, the tool's
# schema in the system message, the arguments expected as one JSON object in the answer's text.
TOOL_CHOICE_FORMS = ("named", "required", "auto", "text")
_TEXT = TOOL_CHOICE_FORMS.index("text")
_tool_choice_form: dict[tuple[str, str], int] = {}  # (url, model) -> index in TOOL_CHOICE_FORMS, once one failed
_REJECTS_CHOICE = re.compile(rb"tool_choice|tool choice|parallel_tool")
_REJECTS_TOOLS = re.compile(
    rb"(does not|doesn't|do not|don't) support (tools|tool|function)|(tools?|tool calls?|tool calling|function calling)"
    rb" (is |are )?not supported"
)


def _next_form(form: int, status: int, content: bytes) -> int | None:
    """The form to ask with after ``status``/``content`` answered ``form``, or None if the answer was no rejection
    of how the tool was asked for."""
    if status not in (400, 422) or form >= _TEXT:
        return None
    text = content[:4000].lower()
    if _REJECTS_TOOLS.search(text):
        return _TEXT
    if _REJECTS_CHOICE.search(text):
        return form + 1
    return None


def _text_instruction(tool: dict[str, Any]) -> str:
    """What the "text" form adds to the system message: the tool as a schema to answer in."""
    function = tool.get("function") or {}
    return (
        "Answer with only one JSON object, in a ```json code block: the arguments of the function "
        f"`{function.get('name', '')}` described by this schema:\n```json\n{json.dumps(tool, ensure_ascii=False)}\n```"
    )


class BoundTools:
    """The model with its tools fixed: ``await ainvoke(messages)`` is one request (two when the endpoint rejects
    the way the tool is asked for, the first time: see ``TOOL_CHOICE_FORMS``)."""

    def __init__(
        self, model: DirectChatModel, tools: list[dict[str, Any]], tool_choice: str, parallel_tool_calls: bool
    ) -> None:
        self.model = model
        self._endpoint = (model.url, model.model)
        # Everything but the messages is the same on every call: serialized once per form.
        fixed = {"model": model.model, "temperature": model.temperature, "stream": False}
        named = {"type": "function", "function": {"name": tool_choice}}
        bodies: dict[str, dict[str, Any]] = {
            "named": fixed | {"tools": tools, "tool_choice": named, "parallel_tool_calls": parallel_tool_calls},
            "required": fixed | {"tools": tools, "tool_choice": "required"},
            "auto": fixed | {"tools": tools},
            "text": fixed,  # the tool goes into the system message (``payload``)
        }
        self._prefixes = [
            json.dumps(bodies[form], ensure_ascii=False)[:-1] + ', "messages": ' for form in TOOL_CHOICE_FORMS
        ]
        self._instruction = _text_instruction(tools[0]) if tools else ""

    def payload(self, messages: Sequence[BaseMessage], form: int = 0) -> bytes:
        wire = [{"role": _ROLES.get(m.type, "user"), "content": m.content} for m in messages]
        if form == _TEXT and self._instruction:  # into the first system message: templates may allow only one
            if wire and wire[0]["role"] == "system" and isinstance(wire[0]["content"], str):
                wire[0] = {"role": "system", "content": f"{wire[0]['content']}\n\n{self._instruction}"}
            else:
                wire.insert(0, {"role": "system", "content": self._instruction})
        return (self._prefixes[form] + json.dumps(wire, ensure_ascii=False) + "}").encode()

    def _request(self) -> httpx.Request:
        """What the openai exceptions carry (built only for an error)."""
        return httpx.Request("POST", self.model.url)

    async def ainvoke(self, messages: Sequence[BaseMessage]) -> AIMessage:
        while True:
            form = _tool_choice_form.get(self._endpoint, 0)
            status, headers, content = await self._post(self.payload(messages, form))
            step = _next_form(form, status, content)
            if step is not None:
                if _tool_choice_form.get(self._endpoint, 0) == form:  # not already moved on by a concurrent call
                    _tool_choice_form[self._endpoint] = step
                    log.warning(
                        "genai.direct.tool_choice_rejected",
                        extra={
                            "url": self.model.url,
                            "model": self.model.model,
                            "rejected": TOOL_CHOICE_FORMS[form],
                            "next": TOOL_CHOICE_FORMS[step],
                            "status": status,
                            "answer": content[:300].decode("utf-8", "replace"),
                        },
                    )
                continue
            return self._read(status, headers, content)

    async def _post(self, payload: bytes) -> tuple[int, Any, bytes]:
        model = self.model
        try:
            async with model.session.post(model.url, data=payload, headers=model.headers) as answer:
                return answer.status, answer.headers, await answer.read()
        except TimeoutError as exc:  # aiohttp's socket timeouts are TimeoutErrors too
            raise openai.APITimeoutError(request=self._request()) from exc  # type: ignore[arg-type]
        except aiohttp.ClientError as exc:
            raise openai.APIConnectionError(
                message=f"{type(exc).__name__}: {exc}",
                request=self._request(),  # type: ignore[arg-type]
            ) from exc

    def _read(self, status: int, headers: Any, content: bytes) -> AIMessage:
        if status >= 400:
            response = httpx.Response(status, headers=list(headers.items()), content=content, request=self._request())
            try:
                body: object = json.loads(content)
            except ValueError:
                body = content[:2000].decode("utf-8", "replace")
            raise openai.APIStatusError(
                f"Error code: {status}",
                response=response,  # type: ignore[arg-type]
                body=body,
            )
        return parse_completion(content)
