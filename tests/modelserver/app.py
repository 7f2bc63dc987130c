"""The routes: the OpenAI chat-completions wire, and the control endpoints tests and benchmarks use."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from tests.modelserver.config import ConfigError, FaultKind, ServerConfig, updated
from tests.modelserver.faults import FaultPicker, error_response, malformed
from tests.modelserver.httpserver import Connections, Hang, Request, Reset, Response
from tests.modelserver.prompt import PromptInfo, parse_request
from tests.modelserver.stats import Stats
from tests.modelserver.writer import write_variants

__all__ = ["ModelApp", "estimate_tokens"]

_WINDOW_S = 60.0
_STATUS = {FaultKind.HTTP_500: 500, FaultKind.HTTP_502: 502, FaultKind.HTTP_503: 503}


def estimate_tokens(text: str) -> int:
    """About 4 characters a token for ASCII, one a token for CJK (cl100k_base is close to both)."""
    wide = (len(text.encode("utf-8")) - len(text)) // 2
    return (len(text) - wide + 3) // 4 + wide


def _json(status: int, payload: Any) -> Response:
    return Response(status, orjson.dumps(payload))


class ModelApp:
    """All state of one server process; every method runs on its event loop."""

    def __init__(self, config: ServerConfig) -> None:
        self.connections = Connections()
        self.stats = Stats(self.connections)
        self.config = config
        self.rng = random.Random(config.seed)
        self.faults = FaultPicker(config.faults, config.fault_rates)
        self.storm_until = time.monotonic() + config.storm_s if config.storm_s else 0.0
        self.requests_window: deque[float] = deque()
        self.tokens_window: deque[tuple[float, int]] = deque()
        self.window_tokens = 0
        self.counter = 0

    # --- control ------------------------------------------------------------------------------------------
    def configure(self, changes: Any) -> ServerConfig:
        new = updated(self.config, changes)
        self.config = new
        if "faults" in changes or "fault_rates" in changes:
            self.faults = FaultPicker(new.faults, new.fault_rates)
        if "seed" in changes:
            self.rng = random.Random(new.seed)
        if "storm_s" in changes:
            self.storm_until = time.monotonic() + new.storm_s if new.storm_s else 0.0
        return new

    def reset(self) -> None:
        self.stats.reset()
        self.requests_window.clear()
        self.tokens_window.clear()
        self.window_tokens = 0

    def _config_view(self) -> dict[str, Any]:
        storm_left = max(0.0, self.storm_until - time.monotonic())
        return self.config.model_dump(mode="json") | {
            "storm_left_s": round(storm_left, 3),
            "fault_rule_times_left": self.faults.remaining(),
        }

    async def handle(self, req: Request) -> Response | Hang | Reset:
        path = req.path.split("?", 1)[0].rstrip("/")
        if req.method == "POST" and path == "/v1/chat/completions":
            return await self.chat(req)
        if req.method == "GET" and path == "/v1/models":
            models = [{"id": m, "object": "model", "created": 0, "owned_by": "modelserver"} for m in self.config.models]
            return _json(200, {"object": "list", "data": models})
        if req.method == "GET" and path == "/_stats":
            return _json(200, self.stats.snapshot())
        if path == "/_config" and req.method in ("GET", "POST"):
            if req.method == "POST":
                try:
                    self.configure(orjson.loads(req.body or b"{}"))
                except orjson.JSONDecodeError:
                    return _json(
                        400, {"error": {"code": "invalid_json", "message": "body is not JSON", "field": "body"}}
                    )
                except ConfigError as exc:
                    return _json(400, {"error": {"code": "invalid_option", "message": exc.message, "field": exc.field}})
            return _json(200, self._config_view())
        if req.method == "POST" and path == "/_reset":
            self.reset()
            return _json(200, self.stats.snapshot())
        if req.method == "GET" and path in ("/healthz", ""):
            return _json(200, {"ok": True})
        return error_response(404, f"no route {req.method} {path}", "not_found")

    # --- the model ----------------------------------------------------------------------------------------
    def _limited(self, now: float, tokens: int) -> Response | None:
        cfg = self.config
        reason, wait = None, cfg.retry_after_s
        while self.requests_window and now - self.requests_window[0] >= _WINDOW_S:
            self.requests_window.popleft()
        while self.tokens_window and now - self.tokens_window[0][0] >= _WINDOW_S:
            self.window_tokens -= self.tokens_window.popleft()[1]
        if now < self.storm_until:
            reason = "storm"
        elif cfg.max_concurrency is not None and self.stats.in_flight >= cfg.max_concurrency:
            reason = "concurrency"
        elif cfg.rpm is not None and len(self.requests_window) >= cfg.rpm:
            reason, wait = "rpm", _WINDOW_S - (now - self.requests_window[0])
        elif cfg.tpm is not None and self.tokens_window and self.window_tokens + tokens > cfg.tpm:
            reason, wait = "tpm", _WINDOW_S - (now - self.tokens_window[0][0])
        if reason is None:
            self.requests_window.append(now)
            self.tokens_window.append((now, tokens))
            self.window_tokens += tokens
            return None
        self.stats.rate_limited[reason] += 1
        return self.too_many(reason, wait)

    def too_many(self, reason: str, wait_s: float) -> Response:
        headers = {"retry-after": str(max(1, math.ceil(wait_s))), "retry-after-ms": str(max(1, round(wait_s * 1000)))}
        return error_response(
            429, f"Rate limit reached ({reason}); retry after {wait_s:.2f}s", "rate_limit_exceeded", headers
        )

    def _latency(self, completion_tokens: int) -> float:
        cfg = self.config
        base = cfg.latency_ms
        if base and cfg.latency_jitter:
            sigma = cfg.latency_jitter
            base *= math.exp(self.rng.gauss(0.0, sigma) - sigma * sigma / 2)  # lognormal with the given mean
        return (base + cfg.ms_per_token * completion_tokens) / 1000

    def _completion(self, body: dict[str, Any], info: PromptInfo, request_id: str, prompt_tokens: int) -> _Answer:
        """The good answer (a fault breaks it afterwards)."""
        cfg = self.config
        arguments, planted = write_variants(info, self.rng, cfg.plant_rate, cfg.plant_kinds)
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if info.tool and info.schema_in_prompt:  # no tools sent: the arguments as text, as a model would write them
            out = orjson.dumps(arguments).decode()
            message["content"], finish = f"```json\n{out}\n```", "stop"
        elif info.tool:
            args = orjson.dumps(arguments).decode()
            call = {"id": f"call_{request_id}", "type": "function", "function": {"name": info.tool, "arguments": args}}
            message["tool_calls"] = [call]
            finish, out = "tool_calls", args
        else:
            first = arguments["variants"][0]["content"]
            out = "\n".join(str(v) for k, v in first.items() if k != "channel" and isinstance(v, str))
            message["content"], finish = out, "stop"
        completion_tokens = estimate_tokens(out)
        completion = {
            "id": f"chatcmpl-{request_id}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model") or cfg.models[0]),
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
            "system_fingerprint": "modelserver",
        }
        return _Answer(completion, len(arguments["variants"]) if info.tool else 0, planted, completion_tokens)

    async def chat(self, req: Request) -> Response | Hang | Reset:
        stats = self.stats
        stats.requests += 1
        self.counter += 1
        request_id = f"ms{self.counter}"
        try:
            body = orjson.loads(req.body)
        except orjson.JSONDecodeError:
            body = None
        problem = _bad_request(body) or self._rejects_tools(body)
        if problem is not None:
            self._record(request_id, None, 400)
            return error_response(400, problem, "invalid_request_error")
        info = parse_request(body)
        prompt_tokens = estimate_tokens(info.text) + 4 * len(body["messages"])
        limited = self._limited(time.monotonic(), prompt_tokens)
        if limited is not None:
            self._record(request_id, info, 429, "rate_limited")
            return limited
        stats.enter()
        fault = self.faults.pick(info.text, self.rng)
        if fault is FaultKind.HANG:
            stats.faults[fault.value] += 1
            self._record(request_id, info, 0, fault.value)
            return Hang(self.config.hang_max_s, done=stats.leave)
        delay = 0.0
        try:
            answer = self._completion(body, info, request_id, prompt_tokens)
            delay = self._latency(answer.completion_tokens)
            if delay > 0:
                stats.latency_s += delay
                await asyncio.sleep(delay)
        finally:
            stats.leave()
        if fault is None:
            stats.answered += 1
            stats.variants += answer.variants
            self._count_tokens(prompt_tokens, answer.completion_tokens)
            for p in answer.planted:
                stats.planted[p["kind"]] += 1
                stats.planted_recent.append({"id": answer.completion["id"], "tool": info.tool, **p})
            self._record(request_id, info, 200, None, len(answer.planted), delay)
            return Response(200, orjson.dumps(answer.completion))
        stats.faults[fault.value] += 1
        resp: Response | Reset
        if fault is FaultKind.RESET:
            resp = Reset()
        elif fault is FaultKind.HTTP_429:
            stats.rate_limited["fault"] += 1
            resp = self.too_many("fault", self.config.retry_after_s)
        elif fault in _STATUS:
            resp = error_response(_STATUS[fault], "the model server had an error", "server_error")
        else:  # a malformed 200: the tokens were spent
            self._count_tokens(prompt_tokens, answer.completion_tokens)
            resp = malformed(fault, answer.completion)
        self._record(request_id, info, resp.status if isinstance(resp, Response) else 0, fault.value, 0, delay)
        return resp

    def _rejects_tools(self, body: dict[str, Any]) -> str | None:
        """Why a request with tools is a 400 here (``tools_supported``, ``tool_choices``), or None."""
        choice = body.get("tool_choice")
        form = "named" if isinstance(choice, dict) else "auto" if choice in (None, "auto") else str(choice)
        if not body.get("tools"):
            return None
        if not self.config.tools_supported:
            self.stats.tool_choice_rejected += 1
            return f"registry.ollama.ai/library/{body.get('model')} does not support tools"
        self.stats.tool_choices[form] += 1
        if form in self.config.tool_choices:
            return None
        self.stats.tool_choice_rejected += 1
        return f"Invalid tool_choice: {orjson.dumps(choice).decode()}"

    def _count_tokens(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.stats.prompt_tokens += prompt_tokens
        self.stats.completion_tokens += completion_tokens

    def _record(
        self,
        request_id: str,
        info: PromptInfo | None,
        status: int,
        fault: str | None = None,
        planted: int = 0,
        latency_s: float = 0.0,
    ) -> None:
        """One line of ``recent`` (status 0: no HTTP answer, a hang or a reset)."""
        self.stats.by_status[status] += 1
        tool = info.tool if info is not None else None
        if tool:
            self.stats.by_tool[tool] += 1
        self.stats.recent.append(
            {
                "id": request_id,
                "tool": tool,
                "name": info.name if info else None,
                "status": status,
                "fault": fault,
                "planted": planted,
                "latency_ms": round(latency_s * 1000, 3),
            }
        )


@dataclass(slots=True)
class _Answer:
    completion: dict[str, Any]
    variants: int
    planted: list[dict[str, str]]
    completion_tokens: int


def _bad_request(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return "messages: a non-empty list is required"
    if body.get("stream"):
        return "stream: this test server answers whole completions only"
    return None
