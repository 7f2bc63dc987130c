"""Drafts, batch decisions, metrics and the model budget through HTTP."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.services import Services
from copyloom.content.engine import ContentEngine
from copyloom.content.journey.service import thompson_choice
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.workspaces import create_workspace
from copyloom.errors import ModelError
from copyloom.genai.chat import build_chat_model
from copyloom.genai.llm import LlmGenerator
from copyloom.genai.types import GenerationRequest, GenerationResult, Generator, RefineRequest
from copyloom.models import Draft, KnowledgeItem
from tests.conftest import auth, make_keys
from tests.fakes import openai_stub

BRIEF = {"goal": "cross_sell", "instructions": "gear for spring hikes"}


def _draft(client: TestClient, key: str, **body: Any) -> Any:
    return client.post(
        "/v1/drafts", json={"customer_id": "C1001", "channels": ["email"], "brief": BRIEF} | body, headers=auth(key)
    )


def test_create_read_list_and_refine_drafts(
    client: TestClient, keys: dict[Role, str], content_engine: ContentEngine
) -> None:
    key = keys[Role.MARKETER]
    r = _draft(client, key, channels=["email", "sms"], variants=2)
    assert r.status_code == 201, r.text
    body = r.json()
    assert {d["channel"] for d in body["drafts"]} == {"email", "sms"} and len(body["drafts"]) == 4
    first = body["drafts"][0]
    assert first["generator"]["kind"] == "offline" and len(first["generator"]["prompt_sha256"]) == 64
    assert first["cited_fact_ids"] and first["guardrail_report"]["results"]
    assert client.get(f"/v1/drafts/{first['id']}", headers=auth(key)).json()["content"] == first["content"]

    page = client.get("/v1/drafts", params={"customer_id": "C1001", "limit": 3}, headers=auth(key)).json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = client.get(
        "/v1/drafts", params={"customer_id": "C1001", "limit": 3, "cursor": page["next_cursor"]}, headers=auth(key)
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {d["id"] for d in page["items"] + rest["items"]} == {d["id"] for d in body["drafts"]}
    assert client.get("/v1/drafts", params={"channel": "sms"}, headers=auth(key)).json()["items"][0]["channel"] == "sms"

    child = client.post(f"/v1/drafts/{first['id']}/refine", json={"operation": "shorten"}, headers=auth(key))
    assert child.status_code == 201, child.text
    assert child.json()["parent_id"] == first["id"] and child.json()["channel"] == first["channel"]
    no_locale = client.post(f"/v1/drafts/{first['id']}/refine", json={"operation": "translate"}, headers=auth(key))
    assert no_locale.status_code == 422 and no_locale.json()["error"]["field"] == "target_locale"
    # Offline, a translation or a tone change is refused (422) rather than answered with the same copy; nothing is
    # stored for it.
    for op in ({"operation": "translate", "target_locale": "zh-CN"}, {"operation": "more_casual"}):
        refused = client.post(f"/v1/drafts/{first['id']}/refine", json=op, headers=auth(key))
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_supported_offline"
        assert refused.json()["error"]["field"] == "operation"
    assert first["generator"]["notes"][0] == "offline template, no model"
    after = client.get("/v1/drafts", params={"customer_id": "C1001", "limit": 50}, headers=auth(key)).json()
    assert len(after["items"]) == 5  # the four drafts and the shortened child


def test_an_invitation_without_an_event_is_422_not_supported_offline(
    client: TestClient,
    keys: dict[Role, str],
    content_engine: ContentEngine,
    session_factory: sessionmaker[Session],
) -> None:
    """The offline generator writes an invitation only to an event fact; without one the request is refused as
    such (422 not_supported_offline), not reported as a failed model (502 model_error), and nothing is stored."""
    with write(session_factory) as s:
        s.execute(delete(KnowledgeItem).where(KnowledgeItem.kind == "event"))
    r = _draft(client, keys[Role.MARKETER], channels=["email", "push"], brief={"goal": "event_invite"})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error["field"]) == ("not_supported_offline", "brief.goal")
    assert "event" in error["message"] and "COPYLOOM_LLM_MODEL" in error["message"]
    with write(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(Draft)) == 0


def test_bad_draft_requests_answer_4xx_with_field(
    client: TestClient,
    keys: dict[Role, str],
    content_engine: ContentEngine,
    session_factory: sessionmaker[Session],
) -> None:
    key = keys[Role.MARKETER]
    cases = [
        ({"variants": 9}, "body.variants"),
        ({"channels": ["email", "email"]}, "body.channels"),
        ({"channels": ["fax"]}, "body.channels.0"),
        ({"send_at": "2026-12-01T10:00:00"}, "body.send_at"),
        ({"brief": {"goal": "make_money"}}, "body.brief.goal"),
        ({"surprise": 1}, "body.surprise"),
    ]
    for extra, field in cases:
        r = _draft(client, key, **extra)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, (extra, r.text)
    r = _draft(client, key, customer_id="nobody")
    assert r.status_code == 404 and r.json()["error"]["code"] == "customer_not_found"
    with write(session_factory) as s:
        assert s.query(Draft).count() == 0  # nothing half-written by any of them
        create_workspace(s, "other")
    other = make_keys(session_factory, "other")
    mine = _draft(client, key).json()["drafts"][0]["id"]
    assert client.get(f"/v1/drafts/{mine}", headers=auth(other[Role.MARKETER])).status_code == 404
    assert _draft(client, other[Role.MARKETER]).status_code == 404  # C1001 is not theirs


class FailingSms:
    """Delegates to a real generator, except that SMS fails like a model outage."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner

    @property
    def kind(self) -> str:
        return self.inner.kind

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        if request.channel == "sms":
            raise ModelError("upstream 503 after retries", code="model_http_error")
        return await self.inner.generate(request)

    async def refine(self, request: RefineRequest) -> GenerationResult:
        return await self.inner.refine(request)


def test_model_failure_on_one_channel_keeps_the_others(
    client: TestClient, keys: dict[Role, str], content_engine: ContentEngine
) -> None:
    content_engine.generator = FailingSms(content_engine.generator)  # type: ignore[assignment]
    r = _draft(client, keys[Role.MARKETER], channels=["email", "sms"])
    assert r.status_code == 201
    assert {d["channel"] for d in r.json()["drafts"]} == {"email"}
    assert r.json()["errors"] == [
        {"channel": "sms", "status": 502, "code": "model_http_error", "message": "upstream 503 after retries"}
    ]
    only_sms = _draft(client, keys[Role.MARKETER], channels=["sms"])
    assert only_sms.status_code == 502 and only_sms.json()["error"]["code"] == "model_http_error"


def test_exhausted_budget_is_429_and_no_model_call(
    client: TestClient, keys: dict[Role, str], services: Services, content_engine: ContentEngine
) -> None:
    with openai_stub() as stub:
        settings = services.settings.model_copy(
            update={
                "llm_model": "openai:gpt-4o-mini",
                "llm_base_url": stub.base_url,
                "llm_api_key": SecretStr("sk-test"),
                "llm_daily_token_budget": 0,
                "llm_timeout_s": 2.0,
            }
        )
        content_engine.settings = settings
        content_engine.generator = LlmGenerator(
            build_chat_model(settings), model_name="openai:gpt-4o-mini", settings=settings
        )
        r = _draft(client, keys[Role.MARKETER], channels=["email", "push"])
        assert r.status_code == 429 and r.json()["error"]["code"] == "budget_exhausted"
        assert stub.requests == []


def test_thompson_sampling_prefers_the_variant_that_converts() -> None:
    rng = random.Random(42)
    stats = {0: (200, 4), 1: (200, 40)}
    picks = Counter(thompson_choice([0, 1], stats, rng) for _ in range(500))
    assert picks[1] > 480
    rng = random.Random(7)
    fresh = Counter(thompson_choice([0, 1], {}, rng) for _ in range(1000))
    assert 400 < fresh[0] < 600  # no data: explore both


def test_batch_decisions_answer_per_item_and_metrics_count_them(
    client: TestClient, keys: dict[Role, str], approved_campaign: Callable[..., str]
) -> None:
    c = {"id": approved_campaign(["C1001", "C2001"], ["in_app"])}
    items = [
        {"campaign_id": c["id"], "customer_id": cust, "channel": "in_app", "idempotency_key": f"b-{cust}"}
        for cust in ("C1001", "C2001", "nobody")
    ]
    r = client.post("/v1/decisions/batch", json={"items": items}, headers=auth(keys[Role.JOURNEY]))
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["result"]["decision"] for x in results[:2]] == ["send", "send"]
    assert results[2]["error"]["code"] == "customer_not_found"
    text = client.get("/metrics").text
    assert 'copyloom_decisions_total{decision="send",source="approved"}' in text
    assert "copyloom_drafts_total" in text


def test_campaign_stats_count_sends_outcomes_and_conversions_per_variant(
    client: TestClient,
    keys: dict[Role, str],
    approved_campaign: Callable[..., str],
    session_factory: sessionmaker[Session],
) -> None:
    c = {"id": approved_campaign(["C1001", "C2001"], ["in_app"])}
    sent = [
        client.post(
            "/v1/decisions",
            headers=auth(keys[Role.JOURNEY]),
            json={"campaign_id": c["id"], "customer_id": cust, "channel": "in_app", "idempotency_key": f"st-{cust}"},
        ).json()
        for cust in ("C1001", "C2001")
    ]
    for event in ("delivered", "opened", "converted"):
        r = client.post(
            "/v1/outcomes", json={"draft_id": sent[0]["draft"]["id"], "event": event}, headers=auth(keys[Role.JOURNEY])
        )
        assert r.status_code == 201
    stats = client.get(f"/v1/campaigns/{c['id']}/stats", headers=auth(keys[Role.MARKETER])).json()
    (variant,) = stats["variants"]
    assert (variant["channel"], variant["variant_index"], variant["drafts"], variant["sent"]) == ("in_app", 0, 2, 2)
    assert variant["outcomes"] == {"delivered": 1, "opened": 1, "converted": 1}
    assert variant["conversion_rate"] == 0.5
    with write(session_factory) as s:
        create_workspace(s, "elsewhere")
    other = make_keys(session_factory, "elsewhere")
    assert client.get(f"/v1/campaigns/{c['id']}/stats", headers=auth(other[Role.MARKETER])).status_code == 404


def test_a_brand_kit_change_applies_to_the_next_decision(
    client: TestClient, keys: dict[Role, str], approved_campaign: Callable[..., str]
) -> None:
    campaign = approved_campaign(["C1001"], ["in_app"])
    brand = client.get("/v1/brand", headers=auth(keys[Role.ADMIN])).json()
    first = client.post(
        "/v1/decisions",
        headers=auth(keys[Role.JOURNEY]),
        json={"campaign_id": campaign, "customer_id": "C1001", "channel": "in_app", "idempotency_key": "bk-1"},
    ).json()
    assert first["decision"] == "send"  # brand kit now cached by this process
    # The brand stops sending in-app messages: a weekly cap of zero.
    brand["policies"]["channels"]["in_app"] = {"min_gap_hours": 0, "max_per_week": 0}
    assert client.put("/v1/brand", json=brand, headers=auth(keys[Role.ADMIN])).status_code == 200
    second = client.post(
        "/v1/decisions",
        headers=auth(keys[Role.JOURNEY]),
        json={"campaign_id": campaign, "customer_id": "C1001", "channel": "in_app", "idempotency_key": "bk-2"},
    ).json()
    assert (second["decision"], second["reason_code"]) == ("suppress", "fatigue_weekly_cap")
