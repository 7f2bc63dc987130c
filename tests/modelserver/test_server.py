"""The model server over real HTTP: the openai client, ChatOpenAI and raw httpx against the subprocess."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from langchain_openai import ChatOpenAI
from pydantic import ValidationError

from copyloom.contracts.enums import Channel
from copyloom.errors import ModelError
from copyloom.genai.llm import LlmGenerator
from copyloom.genai.structured import variants_model
from tests.genai.bundles import make_bundle, make_request
from tests.modelserver import ModelServer, ModelServerError, start_model_server
from tests.modelserver.config import ServerConfig
from tests.modelserver.generators import with_generator

DEFAULTS = ServerConfig().model_dump(mode="json")
TOOL = variants_model(Channel.PUSH, 2)


@pytest.fixture(scope="module")
def shared() -> Iterator[ModelServer]:
    with start_model_server() as server:
        yield server


@pytest.fixture
def server(shared: ModelServer) -> ModelServer:
    """The module's server with default options and zeroed counters."""
    shared.configure(**DEFAULTS)
    shared.reset()
    return shared


def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def client(server: ModelServer, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", **({"max_retries": 0} | kwargs))


def tool_request(n: int = 2) -> dict[str, Any]:
    """What ChatOpenAI sends for a push channel (prompt rendered by copyloom, tool from its schema)."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from copyloom.genai.messages import render_generation_prompt

    prompt = render_generation_prompt(make_request(channel=Channel.PUSH, n=n))
    tool = convert_to_openai_tool(variants_model(Channel.PUSH, n))
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": m.role, "content": m.content} for m in prompt.messages],
        "tools": [tool],
        "tool_choice": {"type": "function", "function": {"name": tool["function"]["name"]}},
    }


def test_openai_client_reuses_its_connection(server: ModelServer) -> None:
    c = client(server)
    for _ in range(20):
        c.chat.completions.create(**tool_request())
    stats = server.stats()
    assert stats["requests"] == 20 and stats["answered"] == 20
    assert stats["connections_opened"] < stats["requests"]
    assert stats["connections_opened"] == 1
    assert [m.id for m in c.models.list()] == DEFAULTS["models"]


def test_every_answer_carries_usage_and_the_totals_add_up(server: ModelServer) -> None:
    c = client(server)
    answers = [c.chat.completions.create(**tool_request()) for _ in range(3)]
    assert all(a.usage is not None and a.usage.prompt_tokens > 300 and a.usage.completion_tokens > 20 for a in answers)
    stats = server.stats()
    assert stats["prompt_tokens"] == sum(a.usage.prompt_tokens for a in answers if a.usage)
    assert stats["completion_tokens"] == sum(a.usage.completion_tokens for a in answers if a.usage)


def test_latency_follows_the_configured_distribution(server: ModelServer) -> None:
    server.configure(latency_ms=300)
    c = client(server)
    started = time.monotonic()
    c.chat.completions.create(**tool_request())
    assert time.monotonic() - started >= 0.29  # never faster than the model takes
    server.configure(latency_ms=4, latency_jitter=0.5)
    server.reset()
    for _ in range(150):
        c.chat.completions.create(**tool_request(1))
    sampled = [r["latency_ms"] for r in server.stats()["recent"]]
    assert len(set(sampled)) > 100, "a lognormal gives every request its own latency"
    assert 3.0 < sum(sampled) / len(sampled) < 5.0, "around the configured mean"
    assert max(sampled) > 4 * 1.5 and min(sampled) < 4 / 1.5


def test_twenty_concurrent_requests_are_twenty_in_flight(server: ModelServer) -> None:
    server.configure(latency_ms=3000)
    body = tool_request(1)

    async def burst() -> None:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:
            await asyncio.gather(*(c.chat.completions.create(**body) for _ in range(20)))

    asyncio.run(burst())
    stats = server.stats()
    assert stats["max_in_flight"] == 20 and stats["in_flight"] == 0
    assert stats["answered"] == 20 and stats["connections_opened"] == 20


def test_above_max_concurrency_the_server_answers_429_with_retry_after(server: ModelServer) -> None:
    server.configure(latency_ms=3000, max_concurrency=2, retry_after_s=0.5)
    body = tool_request(1)

    async def burst() -> list[Any]:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:
            return await asyncio.gather(*(c.chat.completions.create(**body) for _ in range(5)), return_exceptions=True)

    results = asyncio.run(burst())
    limited = [r for r in results if isinstance(r, openai.RateLimitError)]
    assert len(limited) == 3 and sum(not isinstance(r, Exception) for r in results) == 2
    assert {r.response.headers["retry-after"] for r in limited} == {"1"}
    assert {r.response.headers["retry-after-ms"] for r in limited} == {"500"}
    stats = server.stats()
    assert stats["max_in_flight"] == 2
    assert stats["rate_limited"] == 3 and stats["rate_limited_by_reason"] == {"concurrency": 3}


def test_above_the_rate_the_server_answers_429_until_the_minute_has_passed(server: ModelServer) -> None:
    server.configure(rpm=3)
    c = client(server)
    for _ in range(3):
        c.chat.completions.create(**tool_request(1))
    with pytest.raises(openai.RateLimitError) as caught:
        c.chat.completions.create(**tool_request(1))
    assert 50 <= int(caught.value.response.headers["retry-after"]) <= 60
    assert server.stats()["rate_limited_by_reason"] == {"rpm": 1}


def test_a_storm_answers_429_for_its_period_and_a_retrying_client_gets_through(server: ModelServer) -> None:
    server.configure(storm_s=60, retry_after_s=0.05)
    with pytest.raises(openai.RateLimitError):
        client(server).chat.completions.create(**tool_request(1))
    assert server.config()["storm_left_s"] > 50
    server.configure(storm_s=0.5)
    answer = client(server, max_retries=50).chat.completions.create(**tool_request(1))
    assert answer.choices[0].message.tool_calls
    stats = server.stats()
    assert stats["rate_limited_by_reason"]["storm"] >= 2 and stats["answered"] == 1


def raw(server: ModelServer, body: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.post(f"{server.base_url}/chat/completions", json=body or tool_request(), timeout=30)


def tool_arguments(response: httpx.Response) -> str:
    return str(response.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("empty_choices", lambda r: r.json()["choices"] == []),
        ("no_choices", lambda r: "choices" not in r.json() and r.json()["usage"]["total_tokens"] > 0),
        ("null_message", lambda r: r.json()["choices"][0]["message"] is None),
        ("html", lambda r: r.headers["content-type"].startswith("text/html") and r.text.startswith("<html>")),
        ("not_json", lambda r: r.headers["content-type"] == "application/json" and not _is_json(r.text)),
        ("bad_arguments", lambda r: not _is_json(tool_arguments(r))),
        ("schema_violation", lambda r: _is_json(tool_arguments(r)) and not _valid(tool_arguments(r))),
        ("text_only", lambda r: r.json()["choices"][0]["message"]["content"] and "tool_calls" not in str(r.json())),
        ("refusal", lambda r: r.json()["choices"][0]["message"]["refusal"]),
        ("json_text", lambda r: _valid(_fenced(r.json()["choices"][0]["message"]["content"])) and not _calls(r)),
    ],
)
def test_each_malformed_answer_is_a_200_broken_that_way(
    server: ModelServer, fault: str, check: Callable[[httpx.Response], Any]
) -> None:
    good = raw(server)
    assert good.status_code == 200 and _valid(tool_arguments(good))
    server.configure(faults=[{"fault": fault, "times": 1}])
    broken = raw(server)
    assert broken.status_code == 200 and check(broken)
    assert raw(server).status_code == 200 and server.stats()["faults"] == {fault: 1}


def _fenced(text: str) -> str:
    return text.split("```json\n", 1)[1].rsplit("\n```", 1)[0]


def _calls(response: httpx.Response) -> Any:
    return response.json()["choices"][0]["message"].get("tool_calls")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _valid(arguments: str) -> bool:
    try:
        TOOL.model_validate_json(arguments)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("fault", "status"), [("500", 500), ("502", 502), ("503", 503), ("429", 429)])
def test_status_faults(server: ModelServer, fault: str, status: int) -> None:
    server.configure(fault_rates={fault: 1.0})
    response = raw(server)
    assert response.status_code == status and response.json()["error"]["message"]
    assert (response.headers.get("retry-after") is not None) == (status == 429)
    assert server.stats()["faults"] == {fault: 1}


def test_a_hang_lasts_until_the_client_gives_up(server: ModelServer) -> None:
    server.configure(faults=[{"fault": "hang"}])
    with pytest.raises(openai.APITimeoutError):
        client(server, timeout=1.0).chat.completions.create(**tool_request(1))
    wait_for(lambda: server.stats()["in_flight"] == 0)
    assert server.stats()["max_in_flight"] == 1 and server.stats()["faults"] == {"hang": 1}


def test_a_reset_drops_the_connection(server: ModelServer) -> None:
    server.configure(faults=[{"fault": "reset", "times": 1}])
    c = client(server)
    with pytest.raises(openai.APIConnectionError):
        c.chat.completions.create(**tool_request(1))
    assert c.chat.completions.create(**tool_request(1)).choices[0].message.tool_calls
    assert server.stats()["faults"] == {"reset": 1}


def test_a_rule_fails_exactly_one_channel_of_one_customer(server: ModelServer) -> None:
    server.configure(faults=[{"match": ["SubmitSmsVariants", "Emma"], "fault": "502", "times": 1}])
    requests = [
        make_request(channel=Channel.PUSH, n=2),
        make_request(channel=Channel.SMS, n=2, bundle=make_bundle(first_name="Liam")),
        make_request(channel=Channel.SMS, n=2),
        make_request(channel=Channel.SMS, n=2),  # the rule is used up: Emma's next SMS works
    ]

    async def work(generator: LlmGenerator) -> list[str]:
        outcomes = []
        for request in requests:
            try:
                await generator.generate(request)
                outcomes.append("ok")
            except ModelError as exc:
                outcomes.append(exc.code)
        return outcomes

    assert with_generator(server.base_url, work) == ["ok", "ok", "model_http_error", "ok"]
    assert server.stats()["faults"] == {"502": 1}
    assert [r["status"] for r in server.stats()["recent"]] == [200, 200, 502, 200]


def test_chatopenai_with_timeout_and_retries_gets_a_structured_answer(server: ModelServer) -> None:
    server.configure(faults=[{"fault": "503", "times": 1}], latency_ms=20)
    chat = ChatOpenAI(model="gpt-4o-mini", base_url=server.base_url, api_key="sk-test", timeout=10, max_retries=2)
    runnable = chat.with_structured_output(TOOL, method="function_calling")
    from langchain_core.messages import HumanMessage, SystemMessage

    body = tool_request(2)
    messages = [SystemMessage(body["messages"][0]["content"]), HumanMessage(body["messages"][1]["content"])]
    parsed = runnable.invoke(messages)
    assert isinstance(parsed, TOOL) and len(parsed.variants) == 2  # type: ignore[attr-defined]
    assert server.stats()["by_status"] == {"503": 1, "200": 1}


def test_configure_rejects_bad_options_with_their_field(server: ModelServer) -> None:
    for options, field in [
        ({"latency_ms": -1}, "latency_ms"),
        ({"no_such_option": 1}, "no_such_option"),
        ({"faults": [{"fault": "explode"}]}, "faults.0.fault"),
        ({"fault_rates": {"500": 0.7, "502": 0.7}}, "fault_rates"),
    ]:
        response = httpx.post(f"{server.root_url}/_config", json=options, timeout=10)
        assert response.status_code == 400 and response.json()["error"]["field"] == field
    with pytest.raises(ModelServerError):
        server.configure(latency_ms="slow")
    assert server.config()["latency_ms"] == 0


def test_reset_zeroes_the_counters(server: ModelServer) -> None:
    client(server).chat.completions.create(**tool_request(1))
    assert server.stats()["requests"] == 1
    after = server.reset()
    assert after["requests"] == 0 and after["connections_opened"] == 0 and after["total_tokens"] == 0


def test_bad_requests_answer_400(server: ModelServer) -> None:
    assert httpx.post(f"{server.base_url}/chat/completions", content=b"{", timeout=10).status_code == 400
    assert raw(server, {"model": "m", "messages": []}).status_code == 400
    assert httpx.get(f"{server.root_url}/nope", timeout=10).status_code == 404


def test_the_process_group_is_killed_on_exit_even_after_a_failure() -> None:
    with pytest.raises(RuntimeError), start_model_server() as server:
        process = server.process
        raise RuntimeError("the test failed")
    assert process.poll() is not None
    with pytest.raises(ModelServerError, match="latency_ms: Input should be greater than or equal to 0"):
        start_model_server(latency_ms=-5)
