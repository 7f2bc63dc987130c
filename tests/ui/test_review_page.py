"""The review page says who, what and how: key labels instead of ids, a confirmation after each decision,
campaign names, an "offline template, no model" banner, and a sign-in text that is true about what is stored."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.workspaces import create_key
from copyloom.errors import InvalidInput
from copyloom.models import ApiKey, Campaign, Draft, ReviewerSession
from tests.conftest import auth
from tests.review.conftest import Stage


def _sign_in(client: TestClient, key: str) -> None:
    form = client.get("/ui/signin")
    token = re.search(r'name="signin_token" value="([^"]+)"', form.text)
    assert token is not None
    resp = client.post("/ui/signin", data={"key": key, "signin_token": token.group(1)}, follow_redirects=False)
    assert resp.status_code == 303


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert found is not None
    return found.group(1)


def _labelled(session_factory: sessionmaker[Session], workspace: str, role: Role, label: str) -> tuple[str, str]:
    with write(session_factory) as s:
        issued = create_key(s, workspace, role, label)
    return issued.key, issued.key_id


def test_sign_in_says_the_key_is_not_stored_and_only_a_token_hash_is(
    client: TestClient, keys: dict[Role, str], session_factory: sessionmaker[Session]
) -> None:
    text = client.get("/ui/signin").text
    assert "is not stored" in text and "random session token" in text and "hash" in text
    assert "kept in an HttpOnly cookie" not in text  # the old, untrue wording
    _sign_in(client, keys[Role.REVIEWER])
    token = client.cookies.get("copyloom_ui")
    with session_factory() as s:
        stored = {r.token_hash for r in s.query(ReviewerSession)}
        key_hashes = {r.key_hash for r in s.query(ApiKey)}
    assert token not in stored and len(stored) == 1 and not stored & key_hashes


def test_the_audit_trail_names_the_keys_label_not_its_id(
    client: TestClient,
    generate: Callable[..., list[dict[str, Any]]],
    session_factory: sessionmaker[Session],
    workspace: str,
) -> None:
    draft_id = generate()[0]["id"]
    key, key_id = _labelled(session_factory, workspace, Role.REVIEWER, "Dana Lee")
    _sign_in(client, key)
    page = client.get(f"/ui/drafts/{draft_id}").text
    assert 'id="who-name"' in page and "Dana Lee" in page
    resp = client.post(
        f"/ui/drafts/{draft_id}/reject",
        data={"csrf": _csrf(page), "reason_code": "off_brand", "version": "1"},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    history = client.get(f"/ui/drafts/{draft_id}").text
    actors = re.findall(r'<span class="actor" title="([^"]*)">([^<]*)</span>', history)
    assert (f"key:{key_id}", "Dana Lee") in actors
    assert not any(shown.startswith("key:") for _, shown in actors)
    api = client.get(f"/v1/drafts/{draft_id}/history", headers=auth(key)).json()["events"]
    rejected = next(e for e in api if e["kind"] == "rejected")
    assert rejected["actor"] == f"key:{key_id}" and rejected["actor_name"] == "Dana Lee"
    generated = next(e for e in api if e["kind"] == "generated")
    assert generated["actor_name"] == f"marketer key {generated_prefix(session_factory, generated['actor'])}…"


def generated_prefix(session_factory: sessionmaker[Session], actor: str) -> str:
    with session_factory() as s:
        row = s.get(ApiKey, actor.removeprefix("key:"))
        assert row is not None
        return row.prefix


def test_a_label_longer_than_the_column_is_refused(session_factory: sessionmaker[Session], workspace: str) -> None:
    with write(session_factory) as s:
        try:
            create_key(s, workspace, Role.REVIEWER, "x" * 201)
        except InvalidInput as exc:
            assert exc.code == "label_too_long" and exc.field == "label"
        else:
            raise AssertionError("a 201-character label was stored")


def test_approve_confirms_what_was_approved_before_the_next_draft(
    client: TestClient,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
) -> None:
    first = generate()[0]["id"]
    with session_factory() as s:
        row = s.get(Draft, first)
        assert row is not None and row.status == "pending_review"
        priority = row.review_priority
    second = stage(first, status="pending_review", priority=priority, age_minutes=-1)  # next in queue order
    _sign_in(client, keys[Role.REVIEWER])
    page = client.get(f"/ui/drafts/{first}").text
    resp = client.post(
        f"/ui/drafts/{first}/approve", data={"csrf": _csrf(page), "version": "1"}, follow_redirects=False
    )
    assert resp.status_code == 303 and f"decided={first}" in resp.headers["location"]
    assert resp.headers["location"].startswith(f"/ui/drafts/{second}")
    shown = client.get(resp.headers["location"]).text
    confirmation = re.search(r'<p class="notice confirm" role="status" id="confirmation">(.*?)</p>', shown, re.S)
    assert confirmation is not None
    assert "Approved: the SMS draft for Emma Carter (C1001)." in confirmation.group(1)
    assert f'href="/ui/drafts/{first}"' in confirmation.group(1) and "next pending draft" in confirmation.group(1)
    # the last one goes back to the queue, which says it too
    page = client.get(f"/ui/drafts/{second}").text
    resp = client.post(
        f"/ui/drafts/{second}/reject",
        data={"csrf": _csrf(page), "reason_code": "other", "version": "1"},
        follow_redirects=True,
    )
    assert "Rejected: the SMS draft for Emma Carter (C1001)." in resp.text
    # a forged "decided" id of nothing says nothing
    assert 'id="confirmation"' not in client.get("/ui/?done=approved&decided=nope").text


def test_offline_drafts_carry_the_banner_and_others_do_not(
    client: TestClient,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
) -> None:
    draft = generate()[0]
    assert draft["generator"]["kind"] == "offline"
    assert "offline template, no model" in draft["generator"]["notes"]
    other = stage(draft["id"])
    with write(session_factory) as s:
        row = s.get(Draft, other)
        assert row is not None
        row.generator = {**row.generator, "kind": "llm", "model": "openai:gpt-4o-mini", "notes": []}
    _sign_in(client, keys[Role.REVIEWER])
    assert 'id="offline-banner"' in client.get(f"/ui/drafts/{draft['id']}").text
    assert "offline template, no model" in client.get(f"/ui/drafts/{draft['id']}").text
    assert 'id="offline-banner"' not in client.get(f"/ui/drafts/{other}").text


def test_campaigns_are_shown_by_name(
    client: TestClient,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
    workspace: str,
) -> None:
    source = generate()[0]["id"]
    with write(session_factory) as s:
        campaign = Campaign(
            workspace_id=workspace, name="Spring <b>camping</b> push", brief={}, channels=["sms"], audience={}
        )
        s.add(campaign)
        s.flush()
        campaign_id = campaign.id
    staged = stage(source, campaign_id=campaign_id)
    _sign_in(client, keys[Role.REVIEWER])
    queue = client.get("/ui/").text
    assert f'<option value="{campaign_id}" >Spring &lt;b&gt;camping&lt;/b&gt; push</option>' in queue
    assert f">{campaign_id}</option>" not in queue
    page = client.get(f"/ui/drafts/{staged}").text
    assert "Campaign: <b>Spring &lt;b&gt;camping&lt;/b&gt; push</b>" in page
