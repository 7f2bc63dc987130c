"""Fakes for tests: a scripted LangChain chat model and an OpenAI-compatible stub HTTP server.

Other test packages may import these. Nothing here is used by the application.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

# --- (a) scripted chat model -------------------------------------------------------------------------------


def tool_call_message(
    name: str, args: dict[str, Any], *, prompt_tokens: int = 100, completion_tokens: int = 50
) -> AIMessage:
    """An assistant message calling tool ``name`` with ``args``, with usage metadata like a provider's."""
    return AIMessage(
        content="",
        tool_calls=[{"name": name, "args": args, "id": f"call_{name}", "type": "tool_call"}],
        usage_metadata={
            "input_tokens": prompt_tokens,
            "output_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    )


class ScriptedChatModel(BaseChatModel):
    """Answers with the next scripted ``AIMessage`` (or raises the next scripted exception).

    Records every list of messages it received in ``calls`` and the tools it was bound to in ``bound_tools``.
    Supports ``bind_tools`` and therefore ``with_structured_output(method="function_calling")``.
    """

    script: list[Any] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[list[dict[str, Any]]] = Field(default_factory=list)

    def __init__(self, script: Sequence[BaseMessage | Exception], **kwargs: Any) -> None:
        super().__init__(script=list(script), **kwargs)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, BaseMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        self.bound_tools.append(formatted)
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append(list(messages))
        if not self.script:
            raise AssertionError("ScriptedChatModel: script exhausted")
        nxt = self.script.pop(0)
        if isinstance(nxt, Exception):
            raise nxt
        assert isinstance(nxt, AIMessage)
        return ChatResult(generations=[ChatGeneration(message=nxt)])


# --- (b) OpenAI-compatible stub server ---------------------------------------------------------------------


@dataclass
class StubResponse:
    """One scripted HTTP answer. ``delay_s`` sleeps before answering (to trigger client timeouts); ``raw`` is sent
    as it is (as text/html), instead of ``body`` as JSON."""

    status: int = 200
    body: dict[str, Any] | None = None
    raw: bytes | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _completion(message: dict[str, Any], finish: str, prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "stub-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def tool_call_response(
    name: str, arguments: dict[str, Any] | str, *, prompt_tokens: int = 120, completion_tokens: int = 80
) -> StubResponse:
    """A chat completion calling tool ``name``; ``arguments`` as a dict (valid JSON) or raw string (maybe not)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": name, "arguments": raw}}],
    }
    return StubResponse(body=_completion(message, "tool_calls", prompt_tokens, completion_tokens))


def refusal_response(text: str = "I'm sorry, I can't help with that.") -> StubResponse:
    message = {"role": "assistant", "content": None, "refusal": text}
    return StubResponse(body=_completion(message, "stop", 40, 10))


def text_response(text: str) -> StubResponse:
    return StubResponse(body=_completion({"role": "assistant", "content": text}, "stop", 40, 10))


def error_response(status: int, message: str = "error", *, retry_after_s: float = 0.0) -> StubResponse:
    """An API error; the headers make the openai client retry at once (fast tests)."""
    headers = {"retry-after-ms": str(int(retry_after_s * 1000)), "retry-after": str(int(retry_after_s))}
    body = {"error": {"message": message, "type": "rate_limit_error" if status == 429 else "server_error"}}
    return StubResponse(status=status, body=body, headers=headers)


class OpenAIStubServer:
    """Serves ``POST /v1/chat/completions`` from a script, on 127.0.0.1 and a random port, in a thread.

    Every request's path, headers and JSON body are recorded in ``requests``. An exhausted script answers 500.
    """

    def __init__(self, script: Sequence[StubResponse] = ()) -> None:
        self.script: list[StubResponse] = list(script)
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                with server._lock:
                    server.requests.append(
                        RecordedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    nxt = server.script.pop(0) if server.script else None
                if nxt is None:
                    nxt = StubResponse(status=500, body={"error": {"message": "stub script exhausted"}})
                if nxt.delay_s:
                    time.sleep(nxt.delay_s)
                payload = nxt.raw if nxt.raw is not None else json.dumps(nxt.body or {}).encode()
                try:
                    self.send_response(nxt.status)
                    self.send_header("content-type", "text/html" if nxt.raw is not None else "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for k, v in nxt.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up (timeout test)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def enqueue(self, *responses: StubResponse) -> None:
        with self._lock:
            self.script.extend(responses)

    def start(self) -> OpenAIStubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def openai_stub(script: Sequence[StubResponse] = ()) -> Iterator[OpenAIStubServer]:
    server = OpenAIStubServer(script).start()
    try:
        yield server
    finally:
        server.stop()


# --- (c) a deterministic embedder ----------------------------------------------------------------------------

_TOKENS = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")


class HashEmbedder:
    """Bag of hashed words (and single CJK characters): texts sharing words are close. Counts its calls."""

    def __init__(self, dim: int = 64) -> None:
        self._dim = dim
        self.calls = 0
        self.texts: list[str] = []

    @property
    def name(self) -> str:
        return f"test-hash-{self._dim}"

    @property
    def dim(self) -> int:
        return self._dim

    def _embed(self, text: str) -> list[float]:
        vec = [0.0] * self._dim
        for tok in _TOKENS.findall(text.lower()):
            h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "big")
            vec[h % self._dim] += 1.0 if (h >> 32) & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vec)) or 1.0
        return [x / norm for x in vec] if any(vec) else [1.0 / math.sqrt(self._dim)] * self._dim

    def embed_query(self, text: str) -> list[float]:
        self.calls += 1
        self.texts.append(text)
        return self._embed(text)

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        self.texts.extend(texts)
        return [self._embed(t) for t in texts]


class WordHashEmbedder:
    """Whitespace words hashed into 32 dimensions, deterministic and instant: for tests about the copy written over
    every demo customer (the offline generator, the model server), not about retrieval quality."""

    name = "test-wordhash"
    dim = 32

    def _vec(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in text.lower().split():
            vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = math.sqrt(sum(x * x for x in vec)) or 1.0
        return [x / norm for x in vec] if any(vec) else [1.0] + [0.0] * (self.dim - 1)

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]
