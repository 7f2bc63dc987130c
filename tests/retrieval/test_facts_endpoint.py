"""GET /v1/customers/{id}/facts: roles, 404 for unknown and other-workspace customers, sources in the answer."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.workspaces import create_workspace
from copyloom.retrieval.indexer import index_workspace
from tests.conftest import auth, make_keys
from tests.retrieval import seed


def _index(session_factory: sessionmaker[Session], client: TestClient, ws: str) -> None:
    engine = client.app.state.services.content_engine()  # type: ignore[attr-defined]
    with write(session_factory) as s:
        index_workspace(s, engine.store, engine.embedder, ws)


def test_marketer_sees_the_bundle_with_sources(
    client: TestClient, session_factory: sessionmaker[Session], demo_workspace: str, keys: dict[Role, str]
) -> None:
    _index(session_factory, client, demo_workspace)
    r = client.get("/v1/customers/C1001/facts", params={"goal": "cross_sell"}, headers=auth(keys[Role.MARKETER]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customer"]["external_id"] == "C1001"
    assert body["personalization_allowed"] is True
    ids = {f["id"] for f in body["facts"]}
    assert "profile:first_name" in ids
    assert all(f["source"]["workspace_id"] == demo_workspace for f in body["facts"])


def test_reviewer_and_journey_keys_are_forbidden(
    client: TestClient, demo_workspace: str, keys: dict[Role, str]
) -> None:
    for role in (Role.REVIEWER, Role.JOURNEY):
        r = client.get("/v1/customers/C1001/facts", params={"goal": "win_back"}, headers=auth(keys[role]))
        assert r.status_code == 403


def test_unknown_customer_is_404(client: TestClient, demo_workspace: str, keys: dict[Role, str]) -> None:
    r = client.get("/v1/customers/NOPE/facts", params={"goal": "win_back"}, headers=auth(keys[Role.ADMIN]))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "customer_not_found"


def test_another_workspaces_customer_is_404(
    client: TestClient, session_factory: sessionmaker[Session], demo_workspace: str
) -> None:
    with write(session_factory) as s:
        create_workspace(s, "other", "Other brand")
        seed.customer(s, "other", "X1")
    acme_keys = make_keys(session_factory, demo_workspace)
    r = client.get("/v1/customers/X1/facts", params={"goal": "win_back"}, headers=auth(acme_keys[Role.ADMIN]))
    assert r.status_code == 404


def test_missing_key_is_401(client: TestClient, demo_workspace: str) -> None:
    assert client.get("/v1/customers/C1001/facts", params={"goal": "win_back"}).status_code == 401
