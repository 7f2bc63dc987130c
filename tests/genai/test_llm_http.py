"""The LLM generator end to end over HTTP: real langchain-openai/openai against the local stub server."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from copyloom.config import Settings
from copyloom.contracts.enums import Channel
from copyloom.db import write
from copyloom.errors import ModelError, ModelTimeout, RateLimited
from copyloom.genai import build_generator
from copyloom.genai.budget import check_budget, record_usage
from copyloom.genai.llm import LlmGenerator
from copyloom.genai.types import GenerationResult
from copyloom.models import UsageRecord
from tests.fakes import (
    OpenAIStubServer,
    StubResponse,
    error_response,
    openai_stub,
    refusal_response,
    tool_call_response,
)
from tests.genai.bundles import INJECTION, make_request

SECRET = "sk-test-THIS-MUST-NEVER-BE-LOGGED-1234"
TOOL = "SubmitPushVariants"


def push_args(n: int = 3, fact_ids: list[str] | None = None) -> dict[str, Any]:
    angles = ["offer", "product", "thanks", "brand", "story"]
    return {
        "variants": [
            {
                "angle": angles[i],
                "fact_ids": fact_ids if fact_ids is not None else ["offer:SPRING20"],
                "content": {"title": f"Back on the trail {i}", "body": "Use code TRAIL20 for 20% off."},
            }
            for i in range(n)
        ]
    }


@pytest.fixture
def stub() -> Iterator[OpenAIStubServer]:
    with openai_stub() as server:
        yield server


def llm_settings(stub: OpenAIStubServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_model": "openai:gpt-4o-mini",
        "llm_base_url": stub.base_url,
        "llm_api_key": SECRET,
        "llm_timeout_s": 2.0,
        "llm_max_retries": 2,
        "llm_max_reasks": 2,
    }
    values.update(overrides)
    return Settings(**values)


def run(stub: OpenAIStubServer, settings: Settings | None = None, **request: Any) -> GenerationResult:
    generator = build_generator(settings or llm_settings(stub))
    assert isinstance(generator, LlmGenerator)
    return asyncio.run(generator.generate(make_request(**request)))


def test_three_variants_come_from_one_call_with_usage_and_cost(stub: OpenAIStubServer) -> None:
    stub.enqueue(tool_call_response(TOOL, push_args(3), prompt_tokens=1000, completion_tokens=200))
    result = run(stub, channel=Channel.PUSH, n=3)

    assert len(stub.requests) == 1
    assert len(result.variants) == 3
    assert {v.angle for v in result.variants} == {"offer", "product", "thanks"}
    body = stub.requests[0].body
    assert body["model"] == "gpt-4o-mini"
    tool = body["tools"][0]["function"]
    assert tool["name"] == TOOL
    assert tool["parameters"]["properties"]["variants"]["minItems"] == 3
    assert result.generator.kind == "llm" and result.generator.model == "gpt-4o-mini"
    assert result.generator.prompt_name == "generate.push" and len(result.generator.prompt_sha256) == 64
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (1000, 200)
    # gpt-4o-mini: 0.15 $/Mtok in, 0.60 $/Mtok out
    assert float(result.usage.cost_usd) == pytest.approx(1000 * 0.15e-6 + 200 * 0.60e-6)


def test_customer_text_is_fenced_with_a_per_request_token(stub: OpenAIStubServer) -> None:
    stub.enqueue(tool_call_response(TOOL, push_args(1)), tool_call_response(TOOL, push_args(1)))
    run(stub, channel=Channel.PUSH, n=1)
    run(stub, channel=Channel.PUSH, n=1)

    tokens = []
    for recorded in stub.requests:
        system, user = (m["content"] for m in recorded.body["messages"])
        opening = system.split("between ", 1)[1].split(" and ", 1)[0]
        assert opening.startswith("<data-")
        token = opening.removeprefix("<data-").removesuffix(">")
        tokens.append(token)
        # the note arrives whole inside the fence, as data: never rendered as a template ("{{ 7*7 }}" stays)
        assert f"<data-{token}>{INJECTION}</data-{token}>" in user
        assert user.count(f"<data-{token}>") == user.count(f"</data-{token}>")
        assert "Ignore all previous instructions" not in system
    assert tokens[0] != tokens[1]


def test_malformed_arguments_are_reasked_with_the_error(stub: OpenAIStubServer) -> None:
    stub.enqueue(
        tool_call_response(TOOL, '{"variants": [{"angle": "x", ', prompt_tokens=10, completion_tokens=5),
        tool_call_response(TOOL, push_args(2), prompt_tokens=20, completion_tokens=7),
    )
    result = run(stub, channel=Channel.PUSH, n=2)

    assert len(stub.requests) == 2 and result.attempts == 2
    reask = stub.requests[1].body["messages"][-1]["content"]
    assert "could not be read" in reask and '{"variants": [{"angle": "x", ' in reask
    assert result.usage.prompt_tokens == 30 and result.usage.completion_tokens == 12


def test_unknown_fact_ids_are_invalid_and_reasked(stub: OpenAIStubServer) -> None:
    stub.enqueue(
        tool_call_response(TOOL, push_args(2, fact_ids=["offer:FREE100"])),
        tool_call_response(TOOL, push_args(2)),
    )
    result = run(stub, channel=Channel.PUSH, n=2)
    assert result.attempts == 2
    assert "offer:FREE100" in stub.requests[1].body["messages"][-1]["content"]
    assert all(v.fact_ids == ["offer:SPRING20"] for v in result.variants)


def test_reasks_are_bounded_and_the_error_carries_attempts_usage_and_output(stub: OpenAIStubServer) -> None:
    bad = push_args(2, fact_ids=["offer:FREE100"])
    stub.enqueue(*(tool_call_response(TOOL, bad, prompt_tokens=5, completion_tokens=1) for _ in range(2)))
    with pytest.raises(ModelError) as caught:
        run(stub, llm_settings(stub, llm_max_reasks=1), channel=Channel.PUSH, n=2)

    assert len(stub.requests) == 2
    err = caught.value
    assert err.code == "model_invalid_output" and err.status == 502
    assert err.details["attempts"] == 2
    assert err.details["usage"]["prompt_tokens"] == 10
    assert "offer:FREE100" in err.details["last_output"]


def test_rate_limit_is_retried_by_the_client_with_backoff(stub: OpenAIStubServer) -> None:
    stub.enqueue(error_response(429, "slow down"), error_response(503), tool_call_response(TOOL, push_args(1)))
    result = run(stub, channel=Channel.PUSH, n=1)
    assert len(stub.requests) == 3
    assert result.attempts == 1  # retries below the re-ask loop: one logical attempt


def test_rate_limit_beyond_the_retries_is_a_model_error(stub: OpenAIStubServer) -> None:
    stub.enqueue(*(error_response(429) for _ in range(3)))
    with pytest.raises(ModelError) as caught:
        run(stub, llm_settings(stub, llm_max_rate_limit_retries=1), channel=Channel.PUSH, n=1)
    assert caught.value.code == "model_rate_limited" and len(stub.requests) == 2


def test_slow_model_raises_model_timeout(stub: OpenAIStubServer) -> None:
    stub.enqueue(StubResponse(body={}, delay_s=1.5))
    with pytest.raises(ModelTimeout) as caught:
        run(stub, llm_settings(stub, llm_timeout_s=0.3, llm_max_retries=0), channel=Channel.PUSH, n=1)
    assert caught.value.status == 504 and caught.value.details["attempts"] == 1


def test_refusal_is_a_model_error_with_its_own_code(stub: OpenAIStubServer) -> None:
    stub.enqueue(refusal_response("I can't write that."))
    with pytest.raises(ModelError) as caught:
        run(stub, channel=Channel.PUSH, n=1)
    assert caught.value.code == "model_refused"
    assert caught.value.details["refusal"] == "I can't write that."
    assert len(stub.requests) == 1


def test_api_key_goes_in_the_header_and_never_in_logs(stub: OpenAIStubServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    stub.enqueue(error_response(429), tool_call_response(TOOL, '{"broken'), tool_call_response(TOOL, push_args(1)))
    run(stub, channel=Channel.PUSH, n=1)

    assert stub.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert caplog.records, "expected the generator and the HTTP stack to log something"
    logged = "\n".join(r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert SECRET not in logged
    assert SECRET not in repr(llm_settings(stub))


def _ledger_count(factory: sessionmaker[Session]) -> int:
    with write(factory) as s:
        return s.query(UsageRecord).count()


def test_exhausted_budget_answers_429_without_calling_the_model(
    stub: OpenAIStubServer, session_factory: sessionmaker[Session], workspace: str
) -> None:
    settings = llm_settings(stub, llm_daily_token_budget=250)
    generator = build_generator(settings)
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    stub.enqueue(tool_call_response(TOOL, push_args(1), prompt_tokens=200, completion_tokens=60))

    def generate_within_budget() -> GenerationResult:
        # What the content pipeline does: check before any call, generate, record the usage.
        with write(session_factory) as session:
            check_budget(session, workspace, settings, now)
            result = asyncio.run(generator.generate(make_request(Channel.PUSH, 1)))
            record_usage(session, workspace, result, operation="generate", channel="push", now=now)
            return result

    first = generate_within_budget()
    assert first.usage.total_tokens == 260 and len(stub.requests) == 1

    with pytest.raises(RateLimited) as caught:
        generate_within_budget()
    assert caught.value.code == "budget_exhausted" and caught.value.status == 429
    assert caught.value.details["tokens_used"] == 260
    assert len(stub.requests) == 1  # no model call was made
    assert _ledger_count(session_factory) == 1
