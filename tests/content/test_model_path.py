"""The real-model path end to end over HTTP: the API (drafts, refine, campaigns) against the OpenAI-compatible model
server of ``tests.modelserver``, running in its own process, keeping connections alive, taking time, answering
429s, failing and sending malformed answers as scripted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.content.engine import ContentEngine
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.genai import direct
from copyloom.genai.factory import build_generator
from copyloom.models import CampaignTarget, Draft
from tests.conftest import auth
from tests.model_path import check_campaign, check_model_requests, post_campaign, seed_customers, wait_campaign
from tests.modelserver import ModelServer, start_model_server

MALFORMED = ["empty_choices", "no_choices", "null_message", "html", "not_json", "bad_arguments", "schema_violation"]


@pytest.fixture(scope="module")
def model_server() -> Iterator[ModelServer]:
    with start_model_server(latency_ms=20, seed=7) as server:
        yield server


@pytest.fixture
def llm(
    model_server: ModelServer, content_engine: ContentEngine, session_factory: sessionmaker[Session]
) -> ModelServer:
    """The app's content engine generating through the model server (reset to good behaviour)."""
    model_server.reset()
    model_server.configure(
        latency_ms=20, latency_jitter=0.3, faults=[], fault_rates={}, max_concurrency=None, storm_s=0
    )
    settings = content_engine.settings.model_copy(
        update={
            "llm_model": "openai:gpt-4o-mini",
            "llm_base_url": model_server.base_url,
            "llm_api_key": SecretStr("sk-test"),
            "llm_timeout_s": 5.0,
            "llm_max_retries": 1,
            "campaign_chunk_size": 16,
        }
    )
    content_engine.settings = settings
    content_engine.generator = build_generator(settings)
    return model_server


def _no_duplicates(factory: sessionmaker[Session], campaign_id: str) -> int:
    with write(factory) as s:
        dupes = s.execute(
            select(Draft.customer_id, Draft.channel, Draft.variant_index, func.count())
            .where(Draft.campaign_id == campaign_id, Draft.is_control.is_(False))
            .group_by(Draft.customer_id, Draft.channel, Draft.variant_index)
            .having(func.count() > 1)
        ).all()
        assert dupes == []
        return int(
            s.scalar(select(func.count()).where(Draft.campaign_id == campaign_id, Draft.is_control.is_(False))) or 0
        )


def test_campaign_completes_concurrently_over_kept_alive_connections(
    client: TestClient, keys: dict[Role, str], llm: ModelServer, session_factory: sessionmaker[Session]
) -> None:
    llm.configure(latency_ms=200, latency_jitter=0.3)
    seed_customers(session_factory, "acme", 200, "W")
    key = keys[Role.MARKETER]
    campaign_id = post_campaign(client, key, "W")
    body = wait_campaign(client, key, campaign_id)
    progress = body["progress"]
    assert body["status"] == "completed", body
    assert progress["done"] == 400 and progress["failed"] == 0 and progress["suppressed"] == 0, progress
    stats = llm.stats()
    # Every model call is a (customer, channel) target or a re-ask of one: never a duplicate.
    assert stats["requests"] == progress["model_calls"] >= 400
    with write(session_factory) as s:
        per_target = s.execute(
            select(func.min(CampaignTarget.model_calls), func.max(CampaignTarget.model_calls)).where(
                CampaignTarget.campaign_id == campaign_id
            )
        ).one()
    assert per_target[0] >= 1
    assert _no_duplicates(session_factory, campaign_id) == 400
    # Request by request (the server's log): each a stored call of one target, no customer drafted twice.
    assert check_model_requests(stats, check_campaign(session_factory, campaign_id)) == 0
    assert stats["max_in_flight"] > 4, stats  # generation is concurrent, not one call at a time
    # Connections are pooled and reused: a handful per event loop, not one per request.
    assert stats["connections_opened"] <= 2 * 40 and stats["connections_opened"] < stats["requests"] / 3, stats
    assert progress["tokens"] > 0 and progress["targets_per_s"] is not None


def test_drafts_and_refine_reuse_the_same_client_across_requests(
    client: TestClient, keys: dict[Role, str], llm: ModelServer, session_factory: sessionmaker[Session]
) -> None:
    ids = seed_customers(session_factory, "acme", 3, "R")
    key = keys[Role.MARKETER]
    for customer in ids:  # several requests: the client's pool stays on the server's loop, no "loop is closed"
        r = client.post(
            "/v1/drafts",
            json={"customer_id": customer, "channels": ["email", "sms"], "brief": {"goal": "cross_sell"}},
            headers=auth(key),
        )
        assert r.status_code == 201, r.text
        assert {d["channel"] for d in r.json()["drafts"]} == {"email", "sms"} and r.json()["errors"] == []
        assert r.json()["drafts"][0]["generator"]["kind"] == "llm"
    draft_id = next(d["id"] for d in r.json()["drafts"] if d["channel"] == "sms")
    refined = client.post(f"/v1/drafts/{draft_id}/refine", json={"operation": "shorten"}, headers=auth(key))
    assert refined.status_code == 201, refined.text
    assert llm.stats()["connections_opened"] < llm.stats()["requests"]


@pytest.mark.parametrize("fault", MALFORMED)
def test_a_malformed_answer_is_a_per_channel_502_and_the_other_channel_is_kept(
    client: TestClient, keys: dict[Role, str], llm: ModelServer, session_factory: sessionmaker[Session], fault: str
) -> None:
    (customer,) = seed_customers(session_factory, "acme", 1, "M")
    llm.configure(faults=[{"match": "SubmitSmsVariants", "fault": fault}])
    r = client.post(
        "/v1/drafts",
        json={"customer_id": customer, "channels": ["email", "sms"], "brief": {"goal": "cross_sell"}},
        headers=auth(keys[Role.MARKETER]),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert {d["channel"] for d in body["drafts"]} == {"email"}
    (error,) = body["errors"]
    assert error["channel"] == "sms" and error["status"] == 502
    assert error["code"] == "model_invalid_output", error


def test_a_server_without_a_tool_parser_still_drafts_from_the_arguments_in_its_text(
    client: TestClient, keys: dict[Role, str], llm: ModelServer, session_factory: sessionmaker[Session]
) -> None:
    """llama.cpp without --jinja, vLLM without a tool parser: the forced tool's arguments come back as a JSON fence
    in the message's text. They are read as the call, with no re-ask."""
    (customer,) = seed_customers(session_factory, "acme", 1, "J")
    llm.configure(faults=[{"fault": "json_text"}])
    r = client.post(
        "/v1/drafts",
        json={"customer_id": customer, "channels": ["email", "sms"], "brief": {"goal": "cross_sell"}, "variants": 2},
        headers=auth(keys[Role.MARKETER]),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["errors"] == [] and len(body["drafts"]) == 4, body
    assert {d["generator"]["kind"] for d in body["drafts"]} == {"llm"}
    stats = llm.stats()
    assert stats["faults"] == {"json_text": stats["requests"]}  # every answer came back as text ...
    assert stats["by_tool"] == {"SubmitEmailVariants": 1, "SubmitSmsVariants": 1}  # ... and none was asked again


def _draft_each(client: TestClient, key: str, ids: list[str]) -> list[dict[str, Any]]:
    """Draft email and SMS for each customer in turn; each must answer both channels, with no error."""
    drafts = []
    for customer in ids:
        r = client.post(
            "/v1/drafts",
            json={"customer_id": customer, "channels": ["email", "sms"], "brief": {"goal": "cross_sell"}},
            headers=auth(key),
        )
        assert r.status_code == 201, r.text
        assert r.json()["errors"] == [], r.json()["errors"]
        assert {d["channel"] for d in r.json()["drafts"]} == {"email", "sms"}
        drafts += r.json()["drafts"]
    return drafts


@pytest.mark.parametrize(
    ("accepted", "used"), [(["required", "auto"], "required"), (["auto"], "auto")], ids=["llama.cpp", "auto only"]
)
def test_an_endpoint_that_rejects_a_named_tool_choice_is_asked_the_next_way(
    client: TestClient,
    keys: dict[Role, str],
    llm: ModelServer,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    accepted: list[str],
    used: str,
) -> None:
    """llama.cpp's server answers a tool_choice naming the tool 400 "Invalid tool_choice"; older vLLM also rejects
    "required". Each rejected form costs one request, once per endpoint, and no draft fails for it."""
    monkeypatch.setattr(direct, "_tool_choice_form", {})  # what this process learnt of endpoints so far
    ids = seed_customers(session_factory, "acme", 2, "K")
    llm.configure(tool_choices=accepted)
    _draft_each(client, keys[Role.MARKETER], ids)
    stats = llm.stats()
    rejected = stats["tool_choice_rejected"]
    # The two channels of the first request may both have been sent the first way before either was answered.
    assert 1 <= rejected <= 2 * (3 - len(accepted)), stats["tool_choices"]
    assert stats["tool_choices"].get(used) == 4  # two customers x two channels, all drafted
    assert stats["requests"] == 4 + rejected  # no other request: no re-ask, no retry


def test_a_model_without_tool_support_drafts_from_the_schema_in_its_prompt(
    client: TestClient,
    keys: dict[Role, str],
    llm: ModelServer,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ollama answers a request with tools 400 "... does not support tools" for a model without tool support: the
    tool's schema goes into the system message instead, and the arguments come back as JSON text."""
    monkeypatch.setattr(direct, "_tool_choice_form", {})
    ids = seed_customers(session_factory, "acme", 2, "O")
    llm.configure(tools_supported=False)
    drafts = _draft_each(client, keys[Role.MARKETER], ids)
    assert all(d["verdict"] == "pass" for d in drafts), [d["guardrail_report"] for d in drafts]
    stats = llm.stats()
    assert 1 <= stats["tool_choice_rejected"] <= 2  # the first request of each channel, at most
    assert stats["by_tool"] == {"SubmitEmailVariants": 2, "SubmitSmsVariants": 2}  # read from the prompt; no re-ask
    assert stats["requests"] == 4 + stats["tool_choice_rejected"]


@pytest.mark.parametrize(
    ("fault", "status", "code"), [("500", 502, "model_http_error"), ("hang", 504, "model_timeout")]
)
def test_server_errors_and_hangs_are_per_channel_errors_after_retries(
    client: TestClient,
    keys: dict[Role, str],
    llm: ModelServer,
    content_engine: ContentEngine,
    session_factory: sessionmaker[Session],
    fault: str,
    status: int,
    code: str,
) -> None:
    content_engine.settings = content_engine.settings.model_copy(update={"llm_timeout_s": 1.0})
    content_engine.generator = build_generator(content_engine.settings)
    (customer,) = seed_customers(session_factory, "acme", 1, "F")
    llm.configure(faults=[{"match": "SubmitSmsVariants", "fault": fault}])
    r = client.post(
        "/v1/drafts",
        json={"customer_id": customer, "channels": ["email", "sms"], "brief": {"goal": "cross_sell"}},
        headers=auth(keys[Role.MARKETER]),
    )
    assert r.status_code == 201, r.text
    assert {d["channel"] for d in r.json()["drafts"]} == {"email"}
    (error,) = r.json()["errors"]
    assert (error["channel"], error["status"], error["code"]) == ("sms", status, code)
    assert llm.stats()["by_tool"].get("SubmitSmsVariants") == 2  # the call and its one retry


def test_every_channel_failing_is_an_error_envelope_not_a_500(
    client: TestClient, keys: dict[Role, str], llm: ModelServer, session_factory: sessionmaker[Session]
) -> None:
    (customer,) = seed_customers(session_factory, "acme", 1, "E")
    llm.configure(faults=[{"fault": "null_message"}])
    r = client.post(
        "/v1/drafts",
        json={"customer_id": customer, "channels": ["email", "sms"], "brief": {"goal": "cross_sell"}},
        headers=auth(keys[Role.MARKETER]),
    )
    assert r.status_code == 502 and r.json()["error"]["code"] == "model_invalid_output", r.text


def test_a_429_storm_slows_a_campaign_down_but_loses_nothing(
    client: TestClient, keys: dict[Role, str], llm: ModelServer, session_factory: sessionmaker[Session]
) -> None:
    llm.configure(latency_ms=50, max_concurrency=3, retry_after_s=0.2, storm_s=4.0)
    seed_customers(session_factory, "acme", 30, "S")
    key = keys[Role.MARKETER]
    campaign_id = post_campaign(client, key, "S")
    body = wait_campaign(client, key, campaign_id)
    progress = body["progress"]
    assert body["status"] == "completed" and progress["done"] == 60 and progress["failed"] == 0, progress
    stats = llm.stats()
    assert stats["rate_limited"] > 0
    # 429s are retried below the target: the model calls counted per target exclude them.
    assert stats["requests"] - stats["rate_limited"] == progress["model_calls"]
    assert _no_duplicates(session_factory, campaign_id) == 60
    assert check_model_requests(stats, check_campaign(session_factory, campaign_id)) == 0


def test_one_failing_customer_never_fails_the_campaign_and_can_be_retried(
    client: TestClient, keys: dict[Role, str], llm: ModelServer, session_factory: sessionmaker[Session]
) -> None:
    seed_customers(session_factory, "acme", 6, "T")
    llm.configure(faults=[{"match": ["Alex", "SubmitEmailVariants"], "fault": "502"}])
    key = keys[Role.MARKETER]
    campaign_id = post_campaign(client, key, "T")
    body = wait_campaign(client, key, campaign_id)
    progress = body["progress"]
    assert body["status"] == "completed"
    assert (progress["done"], progress["failed"]) == (11, 1), progress
    assert progress["failed_by_reason"] == {"model_http_error": 1}

    llm.configure(faults=[])
    r = client.post(f"/v1/campaigns/{campaign_id}/retry-failed", headers=auth(key))
    assert r.status_code == 200, r.text
    body = wait_campaign(client, key, campaign_id)
    assert body["progress"]["done"] == 12 and body["progress"]["failed"] == 0
    assert _no_duplicates(session_factory, campaign_id) == 12


def test_pause_resume_and_cancel(
    client: TestClient,
    keys: dict[Role, str],
    llm: ModelServer,
    session_factory: sessionmaker[Session],
    content_engine: ContentEngine,
) -> None:
    """Each step waits for the state it needs instead of racing the worker: the cancel comes while the campaign is
    paused, so exactly the customers still pending are cancelled however fast the worker was."""
    llm.configure(latency_ms=300)
    # Four model requests in flight: a worker holds a few customers at a time, most stay pending for a while.
    content_engine.settings = content_engine.settings.model_copy(update={"model_concurrency": 4})
    seed_customers(session_factory, "acme", 120, "P")
    key = keys[Role.MARKETER]
    campaign_id = post_campaign(client, key, "P")

    def progress() -> dict[str, Any]:
        return dict(client.get(f"/v1/campaigns/{campaign_id}", headers=auth(key)).json()["progress"])

    def pause() -> dict[str, Any]:
        r = client.post(f"/v1/campaigns/{campaign_id}/pause", headers=auth(key))
        assert r.status_code == 200 and r.json()["status"] == "paused", r.text
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # customers already being drafted finish; nothing new starts
            now = progress()
            if now["leased"] == 0:
                return now
            time.sleep(0.2)
        raise AssertionError(f"leases still held after the pause: {progress()}")

    paused = pause()
    assert paused["pending"] > 0, paused
    time.sleep(1.0)
    assert progress()["done"] == paused["done"]

    assert client.post(f"/v1/campaigns/{campaign_id}/resume", headers=auth(key)).json()["status"] == "running"
    deadline = time.monotonic() + 120
    while progress()["done"] == paused["done"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert progress()["done"] > paused["done"], "nothing was drafted after the resume"

    paused = pause()
    assert paused["pending"] > 0, paused
    r = client.post(f"/v1/campaigns/{campaign_id}/cancel", headers=auth(key))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    final = wait_campaign(client, key, campaign_id)["progress"]
    assert final["cancelled"] == paused["pending"] and final["pending"] == 0 and final["leased"] == 0, final
    assert final["done"] == paused["done"] and final["done"] + final["cancelled"] == 240, final
    assert client.post(f"/v1/campaigns/{campaign_id}/resume", headers=auth(key)).status_code == 409
