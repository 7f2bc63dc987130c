"""Scripted faults: which request gets one, and what each fault sends instead of a good answer."""

from __future__ import annotations

import random
from typing import Any

import orjson

from tests.modelserver.config import FaultKind, FaultRule
from tests.modelserver.httpserver import Response

__all__ = ["FaultPicker", "error_response", "malformed"]

_HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"


class FaultPicker:
    """Rules first (in order, each bounded by ``times``), then the random ``fault_rates``."""

    def __init__(self, rules: list[FaultRule], rates: dict[FaultKind, float]) -> None:
        self.rules = rules
        self.left: list[int | None] = [r.times for r in rules]
        self.rates = list(rates.items())

    def pick(self, text: str, rng: random.Random) -> FaultKind | None:
        for i, rule in enumerate(self.rules):
            if self.left[i] == 0 or not all(m in text for m in rule.match):
                continue
            if rule.probability < 1 and rng.random() >= rule.probability:
                continue
            left = self.left[i]
            if left is not None:
                self.left[i] = left - 1
            return rule.fault
        if self.rates:
            draw, total = rng.random(), 0.0
            for kind, p in self.rates:
                total += p
                if draw < total:
                    return kind
        return None

    def remaining(self) -> list[int | None]:
        return list(self.left)


def error_response(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    return Response(status, orjson.dumps(body), headers=headers or {})


def malformed(kind: FaultKind, completion: dict[str, Any]) -> Response:
    """A 200 answer that is broken in the way ``kind`` names; ``completion`` is the good answer to break."""
    if kind is FaultKind.HTML:
        return Response(200, _HTML, content_type="text/html; charset=utf-8")
    if kind is FaultKind.NOT_JSON:
        return Response(200, b"upstream overloaded; try again {", content_type="application/json")
    body = dict(completion)
    if kind is FaultKind.EMPTY_CHOICES:
        body["choices"] = []
        return Response(200, orjson.dumps(body))
    if kind is FaultKind.NO_CHOICES:
        del body["choices"]
        return Response(200, orjson.dumps(body))
    if kind is FaultKind.NULL_MESSAGE:
        body["choices"] = [{"index": 0, "message": None, "finish_reason": "stop", "logprobs": None}]
        return Response(200, orjson.dumps(body))
    choice = dict(body["choices"][0])
    message = dict(choice["message"])
    if kind in (FaultKind.BAD_ARGUMENTS, FaultKind.SCHEMA_VIOLATION) and message.get("tool_calls"):
        call = dict(message["tool_calls"][0])
        call["function"] = dict(call["function"])
        call["function"]["arguments"] = _broken_arguments(kind, call["function"]["arguments"])
        message["tool_calls"] = [call]
    elif kind is FaultKind.JSON_TEXT and message.get("tool_calls"):
        arguments = message["tool_calls"][0]["function"]["arguments"]
        message = {"role": "assistant", "content": f"Here you go:\n```json\n{arguments}\n```", "refusal": None}
        choice["finish_reason"] = "stop"
    elif kind is FaultKind.REFUSAL:
        message = {"role": "assistant", "content": None, "refusal": "I'm sorry, I can't help with that request."}
        choice["finish_reason"] = "stop"
    else:  # text only (also what a broken tool call degrades to when the request had no tool)
        message = {"role": "assistant", "content": "Sure! Here are some ideas for your campaign.", "refusal": None}
        choice["finish_reason"] = "stop"
    choice["message"] = message
    body["choices"] = [choice]
    return Response(200, orjson.dumps(body))


def _broken_arguments(kind: FaultKind, arguments: str) -> str:
    if kind is FaultKind.BAD_ARGUMENTS:
        return arguments[: max(1, len(arguments) // 2)]  # cut mid-way: not JSON
    args = orjson.loads(arguments)
    variants = args.get("variants") or []
    if len(variants) > 1:
        variants.pop()  # one variant short of minItems
    if variants:
        first = variants[0]
        first["fact_ids"] = "all of them"  # a string where a list is required
        content = first.get("content") or {}
        for key in list(content):
            if key != "channel":
                del content[key]  # a required field missing
                break
    return orjson.dumps(args).decode()
