"""Batch imports over HTTP: JSON arrays and NDJSON, per-row skip reasons, idempotency, size limit."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from tests.api.test_ingest import counts
from tests.conftest import auth

CUSTOMERS = [
    {"id": "c-1", "name": "Ana Silva", "email": "ana@example.com", "country": "PT", "phone": "+351 912 345 678"},
    {"id": "c-2", "name": "李雷", "email": "lilei@example.cn", "locale": "zh-CN", "time_zone": "Asia/Shanghai"},
    {"id": "c-3", "name": "Bad Mail", "email": "bad@"},
    {"id": "c-4", "name": "Bad Phone", "phone": "+44 12"},
    {"id": "c-5", "name": "Extra", "shoe_size": 42},
    "not an object",
]


@pytest.fixture
def admin(keys: dict[Role, str]) -> dict[str, str]:
    return auth(keys[Role.ADMIN])


def test_customers_import_skips_bad_rows_with_reason_and_field(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    report = client.post("/v1/customers/import", json=CUSTOMERS, headers=admin).json()
    assert (report["inserted"], report["updated"], report["unchanged"], report["skipped_count"]) == (2, 0, 0, 4)
    skipped = {s["row"]: (s["reason"], s["field"]) for s in report["skipped"]}
    assert skipped == {
        3: ("invalid_input", "email"),
        4: ("invalid_input", "phone"),
        5: ("unknown_field", "shoe_size"),
        6: ("not_an_object", None),
    }
    assert counts(session_factory)["Customer"] == 2
    again = client.post("/v1/customers/import", json=CUSTOMERS, headers=admin).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert counts(session_factory)["Customer"] == 2


def test_ndjson_import_with_a_broken_line(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    lines = [json.dumps({"sku": "TENT-2P", "name": "Trail Tent", "price": 249}), "{broken", "",
             json.dumps({"sku": "MUG", "name": "Enamel mug", "price": "abc"}),
             json.dumps({"sku": "STOVE", "name": "Stove", "price": 39.5, "currency": "EUR"})]  # fmt: skip
    headers = {**admin, "content-type": "application/x-ndjson"}
    report = client.post("/v1/products/import", content="\n".join(lines).encode(), headers=headers).json()
    assert report["inserted"] == 2 and report["skipped_count"] == 2
    assert [(s["row"], s["reason"], s["field"]) for s in report["skipped"]] == [
        (2, "invalid_json", None),
        (3, "invalid_input", "price"),
    ]
    changed = [*lines[:1], json.dumps({"sku": "STOVE", "name": "Stove", "price": 35, "currency": "EUR"})]
    report = client.post("/v1/products/import", content="\n".join(changed).encode(), headers=headers).json()
    assert (report["inserted"], report["updated"], report["unchanged"]) == (0, 1, 1)
    assert counts(session_factory)["Product"] == 2


def test_consents_batch_with_unknown_purpose_and_customer(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    client.put("/v1/customers/c-1", json={"name": "Ana"}, headers=admin)
    rows = [
        {"customer_id": "c-1", "purpose": "marketing", "channel": "email", "status": "granted",
         "recorded_at": "2026-01-01T00:00:00Z"},
        {"customer_id": "c-1", "purpose": "telepathy", "channel": "email", "status": "granted"},
        {"customer_id": "ghost", "purpose": "marketing", "channel": "email", "status": "granted"},
    ]  # fmt: skip
    report = client.post("/v1/consents", json=rows, headers=admin).json()
    assert report["inserted"] == 1
    assert [(s["reason"], s["field"]) for s in report["skipped"]] == [
        ("invalid_input", "purpose"),
        ("customer_not_found", "customer_id"),
    ]
    assert counts(session_factory)["Consent"] == 1


def test_orders_batch_and_events_batch(client: TestClient, keys: dict[Role, str]) -> None:
    admin = auth(keys[Role.ADMIN])
    client.put("/v1/customers/c-1", json={"name": "Ana"}, headers=admin)
    order = {"id": "o-1", "customer_id": "c-1", "placed_at": "2026-03-01T10:00:00Z", "currency": "EUR",
             "lines": [{"sku": "TENT-2P", "name": "Trail Tent", "quantity": 1, "unit_price": "249.00"},
                       {"sku": "MUG", "quantity": 2, "unit_price": "9.50"}]}  # fmt: skip
    assert client.post("/v1/orders", json=[order], headers=admin).json()["inserted"] == 1
    assert client.post("/v1/orders", json=[order], headers=admin).json()["unchanged"] == 1
    cancelled = {**order, "status": "cancelled"}
    assert client.post("/v1/orders", json=cancelled, headers=admin).json()["updated"] == 1
    bad = {**order, "id": "o-2", "lines": [{"sku": "MUG", "quantity": 0}]}
    r = client.post("/v1/orders", json=bad, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["field"] == "lines.0.quantity"
    events = [{"customer_id": "c-1", "name": "App Member Joined", "timestamp": "2026-01-01T00:00:00Z"}] * 2
    report = client.post("/v1/events", json=events, headers=admin).json()
    assert (report["inserted"], report["unchanged"]) == (1, 1)
    for role in (Role.REVIEWER, Role.JOURNEY, Role.MARKETER):  # ingestion is for admin keys
        assert client.post("/v1/events", json=events, headers=auth(keys[role])).status_code == 403
        assert client.post("/v1/orders", json=[order], headers=auth(keys[role])).status_code == 403


def test_oversized_import_is_413_and_stores_nothing(
    client: TestClient, admin: dict[str, str], session_factory: sessionmaker[Session]
) -> None:
    row = {"id": "c", "name": "x" * 150, "attributes": {"bio": "y" * 10_000}}
    body = ("[" + ",".join(json.dumps({**row, "id": f"c-{i}"}) for i in range(1100)) + "]").encode()
    assert len(body) > 10 * 1024 * 1024
    r = client.post("/v1/customers/import", content=body, headers={**admin, "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert counts(session_factory)["Customer"] == 0
