"""The reviewer pages without a browser: sign-in, cookies, CSRF, redirects, headers, workspace scoping."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.workspaces import create_workspace, hash_key, revoke_key
from copyloom.models import ApiKey, Draft, ReviewerSession, utcnow
from tests.conftest import make_keys


def _sign_in(client: TestClient, key: str, next_url: str = "/ui/") -> Any:
    form = client.get("/ui/signin")
    token = re.search(r'name="signin_token" value="([^"]+)"', form.text)
    assert token is not None
    return client.post(
        "/ui/signin", data={"key": key, "signin_token": token.group(1), "next": next_url}, follow_redirects=False
    )


def test_pages_redirect_to_sign_in_without_a_key(client: TestClient) -> None:
    for path in ("/ui/", "/ui/reports", "/ui/drafts/abc?status=pending"):
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 303
        assert resp.headers["location"].startswith("/ui/signin?next=%2Fui%2F")


def test_sign_in_sets_a_strict_http_only_cookie_and_pages_carry_a_csp(
    client: TestClient, keys: dict[Role, str]
) -> None:
    resp = _sign_in(client, keys[Role.REVIEWER], "/ui/reports")
    assert resp.status_code == 303 and resp.headers["location"] == "/ui/reports"
    cookie = next(v for k, v in resp.headers.multi_items() if k == "set-cookie" and v.startswith("copyloom_ui="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    page = client.get("/ui/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert '<meta charset="utf-8">' in page.text


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', client.get("/ui/").text)
    assert found is not None
    return found.group(1)


def test_the_cookie_holds_a_session_token_never_the_key(
    client: TestClient, keys: dict[Role, str], session_factory: sessionmaker[Session]
) -> None:
    resp = _sign_in(client, keys[Role.REVIEWER])
    token = client.cookies.get("copyloom_ui")
    assert token and keys[Role.REVIEWER] not in resp.headers["set-cookie"]
    with session_factory() as s:
        stored = s.scalars(select(ReviewerSession.token_hash)).all()
    assert stored == [hash_key(token)]  # only the token's hash is kept


def test_signing_out_ends_the_session_server_side(client: TestClient, keys: dict[Role, str]) -> None:
    _sign_in(client, keys[Role.REVIEWER])
    token = client.cookies.get("copyloom_ui")
    assert token is not None
    resp = client.post("/ui/signout", data={"csrf": _csrf(client)}, follow_redirects=False)
    assert resp.status_code == 303
    # A copy of the old cookie (a stolen one, say) no longer opens anything.
    client.cookies.set("copyloom_ui", token, path="/ui")
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_revoking_the_key_or_expiry_ends_the_session(
    client: TestClient, keys: dict[Role, str], session_factory: sessionmaker[Session]
) -> None:
    _sign_in(client, keys[Role.REVIEWER])
    assert client.get("/ui/", follow_redirects=False).status_code == 200
    with write(session_factory) as s:
        key_id = s.scalars(select(ApiKey.id).where(ApiKey.key_hash == hash_key(keys[Role.REVIEWER]))).one()
        revoke_key(s, key_id)
    assert client.get("/ui/", follow_redirects=False).status_code == 303

    _sign_in(client, keys[Role.ADMIN])
    assert client.get("/ui/", follow_redirects=False).status_code == 200
    with write(session_factory) as s:
        s.execute(update(ReviewerSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/ui/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("role", [Role.MARKETER, Role.JOURNEY])
def test_only_reviewer_and_admin_keys_sign_in(client: TestClient, keys: dict[Role, str], role: Role) -> None:
    resp = _sign_in(client, keys[role])
    assert resp.status_code == 401 and "copyloom_ui=" not in resp.headers.get("set-cookie", "")
    assert _sign_in(client, "cl_not-a-key").status_code == 401


def test_sign_in_refuses_a_form_without_its_token_and_foreign_redirects(
    client: TestClient, keys: dict[Role, str]
) -> None:
    resp = client.post("/ui/signin", data={"key": keys[Role.REVIEWER], "signin_token": "forged"})
    assert resp.status_code == 403
    for target in ("//evil.example/", "https://evil.example/ui/", "/ui/\\evil"):
        assert _sign_in(client, keys[Role.REVIEWER], target).headers["location"] == "/ui/"


def test_decisions_need_the_csrf_token(
    client: TestClient,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    session_factory: sessionmaker[Session],
) -> None:
    draft_id = generate()[0]["id"]
    _sign_in(client, keys[Role.REVIEWER])
    for token in ("", "0" * 64):
        resp = client.post(f"/ui/drafts/{draft_id}/reject", data={"csrf": token, "reason_code": "other"})
        assert resp.status_code == 403
    with session_factory() as s:
        row = s.get(Draft, draft_id)
        assert row is not None and row.status == "pending_review"
    page = client.get(f"/ui/drafts/{draft_id}")
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert csrf is not None
    resp = client.post(
        f"/ui/drafts/{draft_id}/reject", data={"csrf": csrf.group(1), "reason_code": "other"}, follow_redirects=False
    )
    assert resp.status_code == 303


def test_a_reviewer_of_another_workspace_sees_neither_queue_nor_draft(
    client: TestClient,
    generate: Callable[..., list[dict[str, Any]]],
    session_factory: sessionmaker[Session],
) -> None:
    draft = generate()[0]
    with write(session_factory) as s:
        create_workspace(s, "beta")
    other = make_keys(session_factory, "beta")
    _sign_in(client, other[Role.REVIEWER])
    queue = client.get("/ui/")
    assert draft["id"] not in queue.text and "The queue is empty" in queue.text
    page = client.get(f"/ui/drafts/{draft['id']}")
    assert page.status_code == 404 and draft["content"]["text"] not in page.text


def test_vendored_static_files_only(client: TestClient) -> None:
    htmx = client.get("/ui/static/htmx.min.js")
    assert htmx.status_code == 200 and "javascript" in htmx.headers["content-type"]
    assert 'version:"2.' in htmx.text
    assert client.get("/ui/static/../app.py").status_code == 404
    assert client.get("/ui/static/nope.js").status_code == 404
