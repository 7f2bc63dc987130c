"""Every route of the app x every role, against the README's table of who may call what.

The routes come from the app itself, so a new route that the README does not list fails here; each is called
with a key of each role and must answer 403 exactly for the roles the table leaves out (and never 401 or 5xx for
the others)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from copyloom.api.openapi import api_routes, route_roles
from copyloom.contracts.enums import Role
from tests.conftest import auth

README = Path(__file__).resolve().parents[2] / "README.md"
ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)[^`]*`")
# Pages signed in with a session cookie, not a key (tests/ui and tests/review cover them), and the docs.
NOT_KEYED = ("/ui", "/docs", "/redoc", "/openapi.json")


def _normalize(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def readme_table() -> dict[tuple[str, str], frozenset[Role] | None]:
    """(method, path with {} for parameters) -> the roles of its row (None: no key needed)."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| roles | endpoints |") + 2
    table: dict[tuple[str, str], frozenset[Role] | None] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        who, endpoints = (cell.strip() for cell in line.strip("|").split(" | ", 1))
        names = [n.strip() for n in who.split("(")[0].split(",")]
        roles = None if names == ["anyone"] else frozenset(Role(n) for n in names)
        for method, path in ENDPOINT.findall(endpoints):
            head, _, last = path.rpartition("/")
            for alternative in last.replace("\\|", "|").split("|"):  # `/v1/reviews/{id}/approve\|reject`
                key = (method, _normalize(f"{head}/{alternative}"))
                assert key not in table, f"{key} is listed twice in the README"
                table[key] = roles
    return table


def app_routes(app: object) -> dict[tuple[str, str], str]:
    """(method, normalized path) -> path of every keyed route of the app."""
    found: dict[tuple[str, str], str] = {}
    for route in api_routes(app):  # type: ignore[arg-type]
        if route.path_format.startswith(NOT_KEYED):
            assert route.path_format.startswith("/ui") or not route.include_in_schema, route.path_format
            continue
        assert route.include_in_schema, f"{route.path_format} is hidden from the docs but not a /ui page"
        for method in route.methods or ():
            found[(method, _normalize(route.path_format))] = route.path_format
    return found


def test_the_readme_lists_exactly_the_routes_of_the_app_with_their_declared_roles(app: object) -> None:
    table = readme_table()
    routes = app_routes(app)
    assert sorted(set(routes) - set(table)) == [], "routes missing from the README's API table"
    assert sorted(set(table) - set(routes)) == [], "README endpoints the app does not have"
    by_key = {
        (method, _normalize(r.path_format)): r
        for r in api_routes(app)
        for method in r.methods or ()  # type: ignore[arg-type]
    }
    declared = {key: route_roles(by_key[key]) for key in routes}
    assert declared == table


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    url = re.sub(r"\{[^}]*\}", "no-such-id", path)
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, url, headers=headers, json=body).status_code


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_route_answers_403_exactly_to_the_roles_the_readme_leaves_out(
    client: TestClient, keys: dict[Role, str], demo_workspace: str, role: Role
) -> None:
    table = readme_table()
    wrong: list[str] = []
    for (method, _), path in sorted(app_routes(client.app).items()):
        allowed = table[(method, _normalize(path))]
        status = _call(client, method, path, auth(keys[role]))
        if allowed is None or role in allowed:
            if status in (401, 403) or status >= 500:
                wrong.append(f"{method} {path}: {role.value} may call it, got {status}")
        elif status != 403:
            wrong.append(f"{method} {path}: {role.value} may not call it, got {status}")
    assert wrong == []


def test_journey_keys_cannot_rewrite_customers_through_segment_or_write_activity(
    client: TestClient, keys: dict[Role, str], demo_workspace: str
) -> None:
    journey = auth(keys[Role.JOURNEY])
    identify = {"type": "identify", "userId": "C1001", "traits": {"email": "x@example.com", "birthday": "2015-01-01"}}
    assert client.post("/v1/batch", json={"batch": [identify]}, headers=journey).status_code == 403
    assert client.post("/v1/batch", json={"batch": [identify]}, auth=(keys[Role.JOURNEY], "")).status_code == 403
    event = {"customer_id": "C1001", "name": "Visited", "timestamp": "2026-01-01T00:00:00Z"}
    assert client.post("/v1/events", json=event, headers=journey).status_code == 403
    order = {"id": "o-9", "customer_id": "C1001", "placed_at": "2026-01-01T00:00:00Z"}
    assert client.post("/v1/orders", json=order, headers=journey).status_code == 403
    customer = client.get("/v1/customers/C1001", headers=auth(keys[Role.ADMIN])).json()
    assert customer["email"] != "x@example.com" and customer["birth_date"] != "2015-01-01"
