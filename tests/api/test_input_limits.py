"""Pathological input answers 422 with a code and the field, never a 500: far-future times with offsets, JSON
nested past the limit, non-strict JSON (NaN, lone surrogates, numbers beyond a double), malformed JSON (which names
its line and column), also gzip-compressed and NDJSON bodies."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from copyloom.contracts.enums import Role
from copyloom.domain import safe_json
from copyloom.domain.fields import UtcDateTime
from copyloom.errors import InvalidInput
from tests.conftest import auth

FAR = "9999-12-31T23:59:59-14:00"  # in UTC: year 10000
EARLY = "0001-01-01T00:00:00+14:00"  # in UTC: year 0


def _error(r: Any, status: int = 422) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["error"]
    return error


@pytest.mark.parametrize("when", [FAR, EARLY])
def test_times_outside_years_1_to_9999_in_utc_are_422_on_their_field(
    client: TestClient, keys: dict[Role, str], demo_workspace: str, when: str
) -> None:
    admin = auth(keys[Role.ADMIN])
    event = client.post(
        "/v1/events", headers=admin, json={"customer_id": "C1001", "name": "Visited", "timestamp": when}
    )
    assert _error(event)["field"] == "timestamp"
    order = client.post("/v1/orders", headers=admin, json={"id": "o-far", "customer_id": "C1001", "placed_at": when})
    assert _error(order)["field"] == "placed_at"
    offer = client.put("/v1/offers/far", headers=admin, json={"title": "Far", "valid_to": when})
    assert _error(offer)["field"] == "body.valid_to"
    report = client.get("/v1/reports/reviews", headers=admin, params={"since": when})
    assert _error(report)["field"] == "query.since"
    batch = [{"type": "track", "userId": "C1001", "event": "Visited", "timestamp": when}]
    segment = client.post("/v1/batch", headers=admin, json={"batch": batch}).json()
    assert segment["skipped_count"] == 1 and "timestamp" in json.dumps(segment["skipped"])


def test_the_shared_time_type_keeps_ordinary_times_in_utc() -> None:
    from pydantic import TypeAdapter

    adapter = TypeAdapter(UtcDateTime)
    assert adapter.validate_python("9999-12-31T23:59:59+00:00").year == 9999
    assert adapter.validate_python("2026-06-01T10:00:00+08:00").isoformat() == "2026-06-01T02:00:00+00:00"
    assert adapter.validate_python("2026-06-01T10:00:00").isoformat() == "2026-06-01T10:00:00+00:00"


def _nested(depth: int, leaf: str = "1") -> str:
    return '{"a":' * depth + leaf + "}" * depth


def test_attributes_nested_900_deep_are_422_json_too_deep(
    client: TestClient, keys: dict[Role, str], demo_workspace: str
) -> None:
    body = '{"attributes": ' + _nested(900) + "}"
    r = client.put(
        "/v1/customers/C1001", headers={**auth(keys[Role.ADMIN]), "content-type": "application/json"}, content=body
    )
    error = _error(r)
    assert (error["code"], error["field"], error["details"]["line"]) == ("json_too_deep", "body", 1)


def test_segment_traits_nested_50k_deep_are_422_also_gzipped(
    client: TestClient, keys: dict[Role, str], demo_workspace: str
) -> None:
    body = '{"batch": [{"type": "identify", "userId": "C1001", "traits": ' + _nested(50_000) + "}]}"
    headers = {**auth(keys[Role.ADMIN]), "content-type": "application/json"}
    assert _error(client.post("/v1/batch", headers=headers, content=body))["code"] == "json_too_deep"
    zipped = {**headers, "content-encoding": "gzip"}
    assert _error(client.post("/v1/batch", headers=zipped, content=gzip.compress(body.encode())))["code"] == (
        "json_too_deep"
    )


def test_nesting_up_to_the_limit_is_accepted(client: TestClient, keys: dict[Role, str], demo_workspace: str) -> None:
    body = '{"attributes": ' + _nested(safe_json.MAX_DEPTH - 1) + "}"
    r = client.put(
        "/v1/customers/C1001", headers={**auth(keys[Role.ADMIN]), "content-type": "application/json"}, content=body
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("raw", "column"),
    [
        ('{"attributes": {"score": NaN}}', 27),
        ('{"attributes": {"score": Infinity}}', 27),
        ('{"attributes": {"n": ' + "9" * 5000 + "}}", 22),
        ('{"name": "Ann\\ud800"}', 14),
    ],
    ids=["nan", "infinity", "5000-digit-number", "lone-surrogate"],
)
def test_non_strict_json_is_422_invalid_json_with_its_column(
    client: TestClient, keys: dict[Role, str], demo_workspace: str, raw: str, column: int
) -> None:
    headers = {**auth(keys[Role.ADMIN]), "content-type": "application/json"}
    error = _error(client.put("/v1/customers/C1001", headers=headers, content=raw))
    assert (error["code"], error["field"], error["details"]["line"]) == ("invalid_json", "body", 1)
    assert abs(error["details"]["column"] - column) <= 2, error


@pytest.mark.parametrize("path", ["/v1/customers/C1001", "/v1/consents"])
def test_malformed_json_names_line_and_column(
    client: TestClient, keys: dict[Role, str], demo_workspace: str, path: str
) -> None:
    raw = '{\n  "name": "Ann",\n  "email" "ann@example.com"\n}'
    headers = {**auth(keys[Role.ADMIN]), "content-type": "application/json"}
    send = client.put if path.startswith("/v1/customers") else client.post
    error = _error(send(path, headers=headers, content=raw))
    assert (error["code"], error["field"]) == ("invalid_json", "body")
    assert (error["details"]["line"], error["details"]["column"]) == (3, 11)
    assert "line 3, column 11" in error["message"]


def test_ndjson_lines_too_deep_or_not_strict_are_skipped_with_their_reason(
    client: TestClient, keys: dict[Role, str], demo_workspace: str
) -> None:
    ok = {"customer_id": "C1001", "name": "Visited", "timestamp": "2026-01-05T10:00:00Z"}
    lines = [json.dumps(ok), '{"customer_id": "C1001", "name": "x", "timestamp": NaN}']
    headers = {**auth(keys[Role.ADMIN]), "content-type": "application/x-ndjson"}
    report = client.post("/v1/events", headers=headers, content="\n".join(lines)).json()
    assert (report["inserted"], report["skipped_count"]) == (1, 1)
    assert report["skipped"][0]["reason"] == "invalid_json"
    deep = "\n".join([json.dumps(ok), _nested(100)])
    assert _error(client.post("/v1/events", headers=headers, content=deep))["code"] == "json_too_deep"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert safe_json.loads(json.dumps({"note": "[" * 500 + "{" * 500})) == {"note": "[" * 500 + "{" * 500}
    with pytest.raises(InvalidInput) as caught:
        safe_json.loads(_nested(33))
    assert caught.value.code == "json_too_deep"


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_TEXT = st.text(alphabet=st.sampled_from('ab[]{}"\\:, é中'), max_size=8)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON, limit=st.integers(min_value=1, max_value=5), ascii_only=st.booleans())
def test_the_vectorized_depth_scan_agrees_with_parsing(value: object, limit: int, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    offset = safe_json.first_too_deep(raw, limit)
    assert (offset is None) == (_depth(value) <= limit)
    if offset is not None:
        assert raw[offset : offset + 1] in (b"[", b"{")


def test_gzip_bodies_are_inflated_at_the_edge_within_the_limit(
    client: TestClient, keys: dict[Role, str], demo_workspace: str, settings: Any
) -> None:
    headers = {**auth(keys[Role.ADMIN]), "content-type": "application/json", "content-encoding": "gzip"}
    ok = client.put("/v1/customers/C1001", headers=headers, content=gzip.compress(b'{"name": "Emma C."}'))
    assert ok.status_code == 200 and ok.json()["customer"]["name"] == "Emma C."
    bomb = gzip.compress(b'{"name": "' + b" " * (settings.max_body_bytes + 1) + b'"}')
    assert len(bomb) < settings.max_body_bytes // 100
    assert _error(client.put("/v1/customers/C1001", headers=headers, content=bomb), 413)["code"] == "payload_too_large"
    broken = _error(client.put("/v1/customers/C1001", headers=headers, content=b"not gzip"))
    assert (broken["code"], broken["field"]) == ("invalid_gzip", "body")
    brotli = {**headers, "content-encoding": "br"}
    refused = _error(client.put("/v1/customers/C1001", headers=brotli, content=b"{}"), 415)
    assert (refused["code"], refused["field"]) == ("unsupported_encoding", "content-encoding")


@pytest.mark.store
@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("GET", "/v1/customers?q=a%00b", None, "query"),
        ("GET", "/v1/drafts?customer_id=C1001%00", None, "query"),
        ("GET", "/v1/reviews?campaign_id=%00", None, "query"),
        ("GET", "/v1/drafts/abc%00def", None, "path"),
        ("PUT", "/v1/customers/C1001", {"name": "Ann\u0000"}, "body"),
        (
            "POST",
            "/v1/consents",
            [
                {
                    "customer_id": "C1001",
                    "purpose": "marketing",
                    "channel": "email",
                    "status": "granted",
                    "source": "form\u0000",
                }
            ],
            "body",
        ),
    ],
    ids=["list-query", "drafts-query", "reviews-query", "draft-path", "customer-body", "consents-batch"],
)
def test_nul_characters_are_422_on_every_store(
    client: TestClient, keys: dict[Role, str], workspace: str, method: str, url: str, body: Any, field: str
) -> None:
    error = _error(client.request(method, url, headers=auth(keys[Role.ADMIN]), json=body))
    assert (error["code"], error["field"]) == ("nul_character", field)
