"""The direct chat-completions client reads answers as ChatOpenAI does and sends what it sent (the wire end to end,
faults included, is in tests/content/test_model_path.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from copyloom.config import Settings
from copyloom.genai import direct
from copyloom.genai.answers import MalformedAnswer, failure_code, parse_completion
from copyloom.genai.direct import DirectChatModel


def _answer(message: Any, **extra: Any) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    } | extra
    return json.dumps(body).encode()


def _call(arguments: str, name: str = "SubmitSmsVariants") -> dict[str, Any]:
    return {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}


def test_a_tool_call_with_usage_and_finish_reason() -> None:
    msg = parse_completion(_answer({"role": "assistant", "content": None, "tool_calls": [_call('{"variants": []}')]}))
    assert [(c["name"], c["args"], c["id"]) for c in msg.tool_calls] == [
        ("SubmitSmsVariants", {"variants": []}, "call_1")
    ]
    assert msg.invalid_tool_calls == [] and msg.content == ""
    assert msg.usage_metadata is not None
    assert (msg.usage_metadata["input_tokens"], msg.usage_metadata["output_tokens"]) == (120, 30)
    assert msg.response_metadata["finish_reason"] == "tool_calls"


def test_arguments_that_are_not_json_are_an_invalid_tool_call() -> None:
    msg = parse_completion(_answer({"role": "assistant", "tool_calls": [_call('{"variants": [')]}))
    assert msg.tool_calls == []
    assert [c["args"] for c in msg.invalid_tool_calls] == ['{"variants": [']
    assert "not valid JSON" in str(msg.invalid_tool_calls[0]["error"])


def test_a_refusal_and_plain_text() -> None:
    msg = parse_completion(_answer({"role": "assistant", "content": None, "refusal": "I can't help with that"}))
    assert msg.additional_kwargs["refusal"] == "I can't help with that" and msg.tool_calls == []
    text = parse_completion(_answer({"role": "assistant", "content": "Here you go"}))
    assert text.content == "Here you go" and text.tool_calls == [] and "refusal" not in text.additional_kwargs


def test_no_usage_is_none_not_zero() -> None:
    body = json.loads(_answer({"role": "assistant", "content": "x"}))
    del body["usage"]
    assert parse_completion(json.dumps(body)).usage_metadata is None


@pytest.mark.parametrize(
    "content",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"upstream connect error",
        json.dumps({"id": "x", "object": "chat.completion"}).encode(),
        json.dumps({"id": "x", "choices": []}).encode(),
        json.dumps({"id": "x", "choices": None}).encode(),
        json.dumps({"id": "x", "choices": [None]}).encode(),
        json.dumps({"id": "x", "choices": [{"index": 0, "message": None}]}).encode(),
        json.dumps({"id": "x", "choices": [{"index": 0}]}).encode(),
        json.dumps({"error": {"message": "overloaded"}}).encode(),
        b"[1, 2]",
    ],
)
def test_a_200_that_is_no_chat_completion_is_a_malformed_answer(content: bytes) -> None:
    with pytest.raises(MalformedAnswer) as caught:
        parse_completion(content)
    assert failure_code(caught.value) == "model_invalid_output"


def test_the_request_body_carries_the_tool_the_choice_and_the_messages() -> None:
    settings = Settings(llm_model="openai:gpt-4o-mini", llm_base_url="http://127.0.0.1:9/v1/")
    model = DirectChatModel(settings, session=None)  # type: ignore[arg-type]  # no request is sent here
    assert model.url == "http://127.0.0.1:9/v1/chat/completions" and model.model == "gpt-4o-mini"
    assert model.headers["Authorization"] == "Bearer not-needed"
    tool = {"type": "function", "function": {"name": "SubmitSmsVariants", "parameters": {"type": "object"}}}
    bound = model.bind_tools([tool], tool_choice="SubmitSmsVariants", parallel_tool_calls=False)
    body = json.loads(bound.payload([SystemMessage("be brief"), HumanMessage("写一条短信 for Pat")]))
    assert body["model"] == "gpt-4o-mini" and body["stream"] is False and body["parallel_tool_calls"] is False
    assert body["tools"] == [tool]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "SubmitSmsVariants"}}
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "写一条短信 for Pat"},
    ]


@pytest.mark.parametrize(
    ("form", "status", "answer", "step"),
    [
        ("named", 400, b'{"error": {"message": "Invalid tool_choice: {\\"type\\": \\"function\\"}"}}', "required"),
        ("required", 400, b'{"message": "Only \\"auto\\" and named tool_choice are supported"}', "auto"),
        ("named", 400, b'{"error": "registry.ollama.ai/library/gemma:2b does not support tools"}', "text"),
        ("auto", 422, b"Tool calling is not supported for this model", "text"),
        ("named", 400, b"This model's maximum context length is 8192 tokens", None),
        ("named", 500, b"tool_choice crashed the server", None),
        ("text", 400, b"does not support tools", None),
    ],
)
def test_only_a_rejection_of_how_the_tool_is_asked_for_steps_down(
    form: str, status: int, answer: bytes, step: str | None
) -> None:
    forms = direct.TOOL_CHOICE_FORMS
    got = direct._next_form(forms.index(form), status, answer)
    assert (None if got is None else forms[got]) == step


def test_the_text_form_sends_no_tools_and_the_schema_in_the_system_message() -> None:
    settings = Settings(llm_model="openai:gpt-4o-mini", llm_base_url="http://127.0.0.1:9/v1/")
    model = DirectChatModel(settings, session=None)  # type: ignore[arg-type]  # no request is sent here
    tool = {"type": "function", "function": {"name": "SubmitSmsVariants", "parameters": {"type": "object"}}}
    bound = model.bind_tools([tool], tool_choice="SubmitSmsVariants", parallel_tool_calls=False)
    text = direct.TOOL_CHOICE_FORMS.index("text")
    body = json.loads(bound.payload([SystemMessage("be brief"), HumanMessage("写一条短信 for Pat")], text))
    assert "tools" not in body and "tool_choice" not in body and "parallel_tool_calls" not in body
    system, user = body["messages"]
    assert system["role"] == "system" and system["content"].startswith("be brief\n\n")
    assert json.dumps(tool) in system["content"] and "SubmitSmsVariants" in system["content"]
    assert user == {"role": "user", "content": "写一条短信 for Pat"}
