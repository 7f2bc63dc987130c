"""One reading of a model's answer for the generator and the judge (genai/answers.py): each malformed 200 is
``model_invalid_output`` on both paths, over HTTP against the stub server, and a transport failure is not."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from copyloom.config import Settings
from copyloom.content.drafts.judging import judge_drafts
from copyloom.contracts.enums import Channel
from copyloom.contracts.variants import Variant
from copyloom.errors import ModelError
from copyloom.genai import build_generator
from copyloom.genai.answers import content_arguments, failure_code, parse_completion
from copyloom.genai.chat import build_chat_model
from copyloom.genai.judge import SupportJudge
from copyloom.genai.types import GenerationResult, GeneratorInfo
from copyloom.guardrails.context import CheckContext
from copyloom.guardrails.types import GuardrailReport, Verdict
from tests.fakes import OpenAIStubServer, StubResponse, error_response, openai_stub
from tests.genai.bundles import make_request
from tests.guardrails.factories import bundle


def _completion(choices: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "stub-model", "choices": choices}


MALFORMED = {
    "html": StubResponse(raw=b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"),
    "not_json": StubResponse(raw=b"upstream connect error or disconnect/reset before headers"),
    "empty_choices": StubResponse(body=_completion([])),
    "message_null": StubResponse(body=_completion([{"index": 0, "message": None, "finish_reason": "stop"}])),
    "missing_content": StubResponse(
        body=_completion([{"index": 0, "message": {"role": "assistant"}, "finish_reason": "stop"}])
    ),
}
FIELDS = {"title": "Anna, socks for winter", "body": "20% off socks with WINTER20."}


@pytest.fixture
def stub() -> Iterator[OpenAIStubServer]:
    with openai_stub() as server:
        yield server


def _settings(stub: OpenAIStubServer) -> Settings:
    return Settings(
        llm_model="openai:gpt-4o-mini",
        judge_model="openai:gpt-4o-mini",
        llm_base_url=stub.base_url,
        llm_api_key="sk-test",
        llm_timeout_s=10,
        llm_max_retries=0,
        llm_max_reasks=0,
    )


def _judged(stub: OpenAIStubServer) -> tuple[Verdict, str, str]:
    """The judge's result in the draft pipeline (the production client)."""
    generated = GenerationResult(
        variants=[
            Variant.model_validate(
                {"angle": "a", "fact_ids": ["offer:WINTER20"], "content": {"channel": "push", **FIELDS}}
            )
        ],
        generator=GeneratorInfo(
            kind="llm", model="m", prompt_name="generate.push", prompt_version=1, prompt_sha256="0"
        ),
    )
    ctx = CheckContext(bundle=bundle(), channel="push", send_at=datetime(2025, 12, 30, 15, tzinfo=UTC))
    _, reports = asyncio.run(judge_drafts(_settings(stub), ctx, generated, [GuardrailReport.from_results([])]))
    last = reports[0].results[-1]
    return last.verdict, last.reason_code, last.message


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_the_judge_flags_a_malformed_answer_as_invalid_output(stub: OpenAIStubServer, shape: str) -> None:
    stub.enqueue(MALFORMED[shape])
    verdict, reason, message = _judged(stub)
    assert (verdict, reason) == (Verdict.FLAG, "judge_failed")  # never a pass on an answer nobody could read
    assert message.startswith("Judge failed (model_invalid_output)"), message


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_the_judge_over_chatopenai_classifies_the_same_way(stub: OpenAIStubServer, shape: str) -> None:
    stub.enqueue(MALFORMED[shape])
    judge = SupportJudge(build_chat_model(_settings(stub)), model_name="m")
    with pytest.raises(Exception) as caught:
        asyncio.run(judge.judge(FIELDS, bundle(), send_at="now"))
    assert failure_code(caught.value) == "model_invalid_output", repr(caught.value)


@pytest.mark.parametrize("shape", sorted(MALFORMED))
def test_the_generator_answers_invalid_output_for_a_malformed_answer(stub: OpenAIStubServer, shape: str) -> None:
    stub.enqueue(MALFORMED[shape])
    generator = build_generator(_settings(stub))
    with pytest.raises(ModelError) as caught:
        asyncio.run(generator.generate(make_request(channel=Channel.PUSH, n=1)))
    assert caught.value.code == "model_invalid_output"


def test_a_server_error_is_not_invalid_output_on_either_path(stub: OpenAIStubServer) -> None:
    stub.enqueue(error_response(500, "boom"))
    verdict, reason, message = _judged(stub)
    assert (verdict, reason) == (Verdict.FLAG, "judge_failed")
    assert message.startswith("Judge failed (model_http_error)"), message
    stub.enqueue(error_response(500, "boom"))
    with pytest.raises(ModelError) as caught:
        asyncio.run(build_generator(_settings(stub)).generate(make_request(channel=Channel.PUSH, n=1)))
    assert caught.value.code == "model_http_error"


ARGS = {"variants": [{"angle": "a", "fact_ids": ["offer:SPRING20"], "content": {"channel": "push", **FIELDS}}]}
_ARGS_JSON = json.dumps(ARGS)


@pytest.mark.parametrize(
    "content",
    [
        _ARGS_JSON,
        f"Here you go:\n```json\n{_ARGS_JSON}\n```\nAnything else?",
        f"```\n{_ARGS_JSON}\n```",
        f"<tool_call>\n{_ARGS_JSON}\n</tool_call>",
        json.dumps({"name": "SubmitPushVariants", "arguments": ARGS}),
        json.dumps({"name": "SubmitPushVariants", "arguments": _ARGS_JSON}),
        json.dumps({"name": "SubmitPushVariants", "parameters": ARGS}),
        f"<think>The customer likes socks {{maybe}}.</think>\n\n{_ARGS_JSON}",
        f"Sure, here are the arguments: {_ARGS_JSON} Let me know if you need more.",
    ],
)
def test_arguments_written_as_text_are_read_as_the_call(content: str) -> None:
    assert content_arguments(content, "SubmitPushVariants") == ARGS


@pytest.mark.parametrize(
    "content",
    ["Sure! Here are some ideas for your campaign.", "", None, "[1, 2]", "{not json", '```json\n{"cut": \n```'],
)
def test_text_without_one_json_object_is_no_call(content: Any) -> None:
    assert content_arguments(content, "SubmitPushVariants") is None


def test_the_generator_reads_arguments_sent_as_text(stub: OpenAIStubServer) -> None:
    request = make_request(channel=Channel.PUSH, n=1)
    ok = _completion([{"index": 0, "message": {"role": "assistant", "content": f"```json\n{_ARGS_JSON}\n```"}}])
    stub.enqueue(StubResponse(body=ok))
    result = asyncio.run(build_generator(_settings(stub)).generate(request))
    assert [v.content.model_dump()["title"] for v in result.variants] == [FIELDS["title"]]
    # JSON text that does not validate is a schema problem (re-asked, then invalid output), never a crash
    bad = _completion([{"index": 0, "message": {"role": "assistant", "content": '{"variants": "none"}'}}])
    stub.enqueue(StubResponse(body=bad))
    with pytest.raises(ModelError) as caught:
        asyncio.run(build_generator(_settings(stub)).generate(request))
    assert caught.value.code == "model_invalid_output"
    assert "variants" in str(caught.value.details["problems"]), caught.value.details


def test_tool_arguments_sent_as_an_object_rather_than_a_json_string_are_read() -> None:
    body = _completion(
        [{"index": 0, "message": {"role": "assistant", "tool_calls": [_call(ARGS)]}, "finish_reason": "tool_calls"}]
    )
    message = parse_completion(json.dumps(body))
    assert message.tool_calls[0]["args"] == ARGS and not message.invalid_tool_calls


def _call(arguments: object) -> dict[str, Any]:
    return {"id": "call_1", "type": "function", "function": {"name": "SubmitPushVariants", "arguments": arguments}}
