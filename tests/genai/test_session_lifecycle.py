"""The generator's HTTP sessions (one per event loop) are closed on their own loop when their owner is done: a
short-lived loop when it ends, the background loop when it stops, every loop when the generator is closed (an
engine's shutdown), and a loop closed without shutting down on the next call. Against the model server of
``tests.modelserver``; this process's connections to it are counted through ``/proc``."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from copyloom.config import Settings
from copyloom.contracts.enums import Channel
from copyloom.genai.answers import MalformedAnswer
from copyloom.genai.factory import build_generator, close_generator
from copyloom.genai.judge import LoopJudges
from copyloom.genai.llm import LlmGenerator
from copyloom.genai.loop import BackgroundLoop
from copyloom.genai.types import GenerationResult
from tests.genai.bundles import make_bundle, make_request
from tests.genai.sockets import HAS_PROC, connections_to, unclosed_reports
from tests.modelserver import ModelServer, start_model_server

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="counts this process's sockets through /proc (Linux)")


@pytest.fixture(scope="module")
def model_server() -> Iterator[ModelServer]:
    with start_model_server(latency_ms=0, seed=5) as server:
        yield server


def llm_settings(server: ModelServer) -> Settings:
    return Settings(
        llm_model="openai:gpt-4o-mini",
        llm_base_url=server.base_url,
        llm_api_key=SecretStr("sk-test"),
        llm_timeout_s=20.0,
        llm_max_retries=1,
    )


def generator_for(server: ModelServer) -> LlmGenerator:
    generator = build_generator(llm_settings(server))
    assert isinstance(generator, LlmGenerator)
    return generator


async def generate(generator: LlmGenerator) -> GenerationResult:
    result = await generator.generate(make_request(Channel.PUSH, 1))
    assert result.generator.kind == "llm" and len(result.variants) == 1
    return result


def test_a_session_opened_in_asyncio_run_is_closed_when_the_run_ends(model_server: ModelServer) -> None:
    generator = generator_for(model_server)
    before = connections_to(model_server.port)
    with unclosed_reports() as reports:
        asyncio.run(generate(generator))
        assert connections_to(model_server.port) == before  # closed as the loop ended, not when collected
        asyncio.run(generate(generator))  # a new loop gets a new session, closed in turn
        assert connections_to(model_server.port) == before
    assert reports == []


def test_a_loop_closed_without_shutting_down_is_dropped_on_the_next_call(model_server: ModelServer) -> None:
    generator = generator_for(model_server)
    before = connections_to(model_server.port)
    with unclosed_reports() as reports:
        loop = asyncio.new_event_loop()
        loop.run_until_complete(generate(generator))
        loop.close()  # without shutdown_asyncgens(): nothing can run on it any more, the session least of all
        del loop
        asyncio.run(generate(generator))  # the next call drops the closed loop's session
        gc.collect()
        assert connections_to(model_server.port) == before
    # aiohttp's own reports are gone (the session is detached, its connector marked closed); asyncio still reports
    # each socket of a loop closed without shutting down ("unclosed transport"), for every client on that loop.
    assert [r for r in reports if "session" in r or "connector" in r] == []


def test_the_background_loop_reuses_one_connection_and_closes_it_when_it_stops(model_server: ModelServer) -> None:
    generator = generator_for(model_server)
    background = BackgroundLoop()
    before = connections_to(model_server.port)
    with unclosed_reports() as reports:
        for _ in range(3):
            background.run(generate(generator))
        assert connections_to(model_server.port) == before + 1  # kept alive and reused call after call
        background.stop()
        assert connections_to(model_server.port) == before
        assert background.loop.is_closed()
    assert reports == []


def test_closing_the_generator_closes_every_loops_session_and_it_still_works_after(model_server: ModelServer) -> None:
    generator = generator_for(model_server)
    first, second = BackgroundLoop(), BackgroundLoop()
    before = connections_to(model_server.port)
    try:
        with unclosed_reports() as reports:
            first.run(generate(generator))
            second.run(generate(generator))
            assert connections_to(model_server.port) == before + 2
            close_generator(generator)  # from a thread that runs neither loop: each closed on its own
            assert connections_to(model_server.port) == before
            first.run(generate(generator))  # a closed generator opens a new session on the next call
            second.run(generate(generator))
            assert connections_to(model_server.port) == before + 2
            first.run(generator.aclose())  # from one of the loops: its own awaited, the other's handed to it
            assert connections_to(model_server.port) == before
    finally:
        first.stop()
        second.stop()
    assert reports == []


def test_a_judges_client_is_closed_when_its_loop_ends_or_the_judges_close(model_server: ModelServer) -> None:
    judges, settings = LoopJudges(), llm_settings(model_server)
    before = connections_to(model_server.port)

    async def judge() -> None:
        judged = judges.for_model(settings, "openai:gpt-4o-mini")
        with pytest.raises(MalformedAnswer):  # the model server answers any tool with variants, not verdicts
            await judged.judge({"body": "Free shipping on everything."}, make_bundle(), send_at="now")
        assert connections_to(model_server.port) == before + 1

    background = BackgroundLoop()
    with unclosed_reports() as reports:
        asyncio.run(judge())
        assert connections_to(model_server.port) == before and judges.held == 0
        background.run(judge())
        background.run(judge())  # the same client and connection
        judges.close()
        assert connections_to(model_server.port) == before and judges.held == 0
        background.stop()
    assert reports == []
