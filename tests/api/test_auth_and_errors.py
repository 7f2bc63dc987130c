from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.deps import AdminPrincipal, DbSession
from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.workspaces import revoke_key
from copyloom.models import ApiKey
from tests.conftest import auth


def test_healthz_and_docs_answer(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "copyloom"


def test_readyz_reports_database(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["checks"]["database"] == "ok"


def _probe_app(client: TestClient) -> None:
    router = APIRouter()

    @router.get("/v1/_probe")
    def probe(principal: AdminPrincipal, db: DbSession) -> dict[str, str]:
        return {"workspace": principal.workspace_id, "role": principal.role.value}

    client.app.include_router(router)  # type: ignore[attr-defined]


def test_missing_wrong_and_revoked_keys_get_401(
    client: TestClient, keys: dict[Role, str], session_factory: sessionmaker[Session]
) -> None:
    _probe_app(client)
    r = client.get("/v1/_probe")
    assert r.status_code == 401 and r.json()["error"]["code"] == "missing_key"
    assert client.get("/v1/_probe", headers=auth("cl_not-a-key")).status_code == 401
    assert client.get("/v1/_probe", headers=auth(keys[Role.ADMIN])).json() == {
        "workspace": "acme",
        "role": "admin",
    }
    with write(session_factory) as s:
        key_id = next(k.id for k in s.query(ApiKey).filter_by(role="admin"))
        revoke_key(s, key_id)
    assert client.get("/v1/_probe", headers=auth(keys[Role.ADMIN])).status_code == 401


def test_wrong_role_gets_403(client: TestClient, keys: dict[Role, str]) -> None:
    _probe_app(client)
    r = client.get("/v1/_probe", headers=auth(keys[Role.REVIEWER]))
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_keys_are_stored_only_as_hashes(keys: dict[Role, str], session_factory: sessionmaker[Session]) -> None:
    with write(session_factory) as s:
        stored = {k.key_hash for k in s.query(ApiKey)}
    assert not any(key in stored for key in keys.values())
    assert len(stored) == len(keys)


def test_oversized_body_is_413_before_routing(client: TestClient) -> None:
    big = b"x" * (10 * 1024 * 1024 + 1)
    r = client.post("/healthz", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    assert client.get("/healthz").headers["x-request-id"]
    assert client.get("/healthz", headers={"X-Request-ID": "abc"}).headers["x-request-id"] == "abc"
