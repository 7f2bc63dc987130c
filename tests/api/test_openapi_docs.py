"""/docs and /redoc load from the app alone; the OpenAPI document shows the real error envelope for each status,
the roles, an example for every request body (each accepted by the API) and the schemas of hand-read bodies."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from copyloom.api.examples import NDJSON_EXAMPLES
from copyloom.contracts.enums import Role
from tests.conftest import auth

ERROR_REF = "#/components/schemas/ErrorResponse"
PATH_VALUES = {
    "customer_id": "C1001",
    "note_id": "n-docs",
    "sku": "NW-TENT-2P",
    "offer_id": "SPRING20",
    "item_id": "returns",
    "draft_id": "no-such-draft",  # 404 after the body validated: the example is well-formed
    "campaign_id": "no-such-campaign",
}


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/openapi.json").json()
    return body


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in spec["paths"].items() for m, op in ops.items()]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_doc_pages_load_every_asset_from_the_app(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    html = response.text
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"url: ?['\"]([^'\"]+)['\"]", html)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    assert "cdn" not in html.lower() and "https://" not in html
    for asset in assets:
        r = client.get(asset)
        assert r.status_code == 200 and len(r.content) > 1000, asset


def test_every_error_status_is_documented_with_the_real_envelope(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in json.dumps(spec) and '"detail"' not in json.dumps(spec)
    envelope = spec["components"]["schemas"]["ErrorResponse"]
    assert envelope["required"] == ["error"]
    for method, path, op in _operations(spec):
        statuses = {int(s) for s in op["responses"]}
        for status in statuses - {200, 201, 202}:
            content = op["responses"][str(status)]["content"]["application/json"]
            assert content["schema"]["$ref"] == ERROR_REF, (method, path, status)
            assert set(content["example"]["error"]) >= {"code", "message"}
        if path.startswith("/v1/"):
            assert {401, 403} <= statuses, (method, path)
        if "{" in path:
            assert 404 in statuses, (method, path)
        if "requestBody" in op:
            assert {413, 422} <= statuses, (method, path)
    drafts = spec["paths"]["/v1/drafts"]["post"]["responses"]
    assert {"429", "502", "504"} <= set(drafts)
    assert "409" in spec["paths"]["/v1/reviews/{draft_id}/approve"]["post"]["responses"]
    assert "**Roles:** admin, journey." in spec["paths"]["/v1/decisions"]["post"]["description"]


def test_every_request_body_has_an_example_and_hand_read_bodies_show_their_schema(spec: dict[str, Any]) -> None:
    bodies = [(m, p, op["requestBody"]["content"]) for m, p, op in _operations(spec) if "requestBody" in op]
    assert len(bodies) >= 24
    for method, path, content in bodies:
        assert "example" in content["application/json"], (method, path)
        if "application/x-ndjson" in content:
            assert "example" in content["application/x-ndjson"], (method, path)
    for path, model in (("/v1/consents", "ConsentIn"), ("/v1/events", "EventIn"), ("/v1/orders", "OrderIn")):
        schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert schema["oneOf"][0] == {"$ref": f"#/components/schemas/{model}"}
        assert spec["components"]["schemas"][model]["required"]
    segment = spec["paths"]["/v1/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert segment["properties"]["batch"]["items"]["properties"]["type"]["enum"] == [
        "identify",
        "track",
        "page",
        "screen",
    ]


def test_every_example_is_accepted_by_the_api(
    client: TestClient, spec: dict[str, Any], keys: dict[Role, str], content_engine: Any
) -> None:
    admin = auth(keys[Role.ADMIN])
    refused: list[str] = []
    for method, path, op in _operations(spec):
        if "requestBody" not in op:
            continue
        url = re.sub(r"\{([^}]*)\}", lambda m: PATH_VALUES[m.group(1)], path)
        content = op["requestBody"]["content"]
        r = client.request(method, url, headers=admin, json=content["application/json"]["example"])
        if (
            r.status_code == 422
            or r.status_code >= 500
            or (r.status_code == 404 and "draft" not in r.text and "campaign" not in r.text)
        ):
            refused.append(f"{method} {path}: {r.status_code} {r.text[:300]}")
        if "application/x-ndjson" in content:
            ndjson = {**admin, "content-type": "application/x-ndjson"}
            report = client.request(method, url, headers=ndjson, content=NDJSON_EXAMPLES[path]).json()
            if report.get("skipped_count"):
                refused.append(f"{method} {path} (NDJSON): {report['skipped']}")
    assert refused == []
