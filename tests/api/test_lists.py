"""GET /v1/customers, /v1/products, /v1/offers and /v1/campaigns: filters, search and the drafts' cursor pages,
on SQLite and PostgreSQL (the attribute filter reads JSON, which the two store differently)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.catalogue import ProductIn, upsert_product
from copyloom.models import Campaign
from tests.conftest import auth

pytestmark = pytest.mark.store

CUSTOMERS: dict[str, dict[str, Any]] = {
    "c-ana": {"name": "Ana Lima", "email": "ana@example.com", "locale": "pt-BR", "country": "BR",
              "attributes": {"loyalty_tier": "gold", "interests": ["climbing"]}},
    "c-li": {"name": "Li Wei", "email": "li.wei@example.cn", "locale": "zh-CN", "country": "CN",
             "attributes": {"loyalty_tier": "silver"}},
    "c-zh": {"name": "Zhang 100%_off", "locale": "zh", "country": "CN", "attributes": {}},
    "c-bob": {"name": "Bob Stone", "email": "BOB@Example.com", "locale": "en-GB", "country": "GB",
              "suppressed": True, "suppressed_reason": "objected", "attributes": {"loyalty_tier": "gold"}},
}  # fmt: skip


@pytest.fixture
def admin(keys: dict[Role, str]) -> dict[str, str]:
    return auth(keys[Role.ADMIN])


@pytest.fixture
def marketer(keys: dict[Role, str]) -> dict[str, str]:
    return auth(keys[Role.MARKETER])


@pytest.fixture
def customers(client: TestClient, admin: dict[str, str]) -> None:
    for external_id, body in CUSTOMERS.items():
        assert client.put(f"/v1/customers/{external_id}", json=body, headers=admin).status_code == 200


def _ids(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> list[str]:
    r = client.get(path, headers=headers, params=params)
    assert r.status_code == 200, r.text
    return [item.get("id") or item["sku"] for item in r.json()["items"]]


@pytest.mark.usefixtures("customers")
def test_customer_filters_and_search(client: TestClient, marketer: dict[str, str]) -> None:
    def ids(**params: Any) -> set[str]:
        return set(_ids(client, "/v1/customers", marketer, **params))

    assert ids() == set(CUSTOMERS)
    assert ids(locale="zh") == {"c-li", "c-zh"}  # "zh" also matches "zh-CN"
    assert ids(locale="zh-CN") == {"c-li"}
    assert ids(country="cn") == {"c-li", "c-zh"}
    assert ids(q="bob@example") == {"c-bob"}  # case-insensitive, in the email
    assert ids(q="WEI") == {"c-li"}
    assert ids(q="100%_") == {"c-zh"} and ids(q="%") == {"c-zh"}  # LIKE wildcards match themselves
    assert ids(attribute="loyalty_tier:gold") == {"c-ana", "c-bob"}
    assert ids(attribute="loyalty_tier") == {"c-ana", "c-li", "c-bob"}
    assert ids(attribute=["loyalty_tier:gold", "interests"]) == {"c-ana"}
    assert ids(suppressed="true") == {"c-bob"}
    assert ids(suppressed="false") == {"c-ana", "c-li", "c-zh"}
    assert ids(locale="zh", q="li") == {"c-li"}


@pytest.mark.usefixtures("customers")
def test_bad_filters_and_cursors_are_422(client: TestClient, marketer: dict[str, str]) -> None:
    bad = client.get("/v1/customers", headers=marketer, params={"attribute": "a'b:c"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "attribute"
    customers_cursor = client.get("/v1/customers", headers=marketer, params={"limit": 1}).json()["next_cursor"]
    assert client.get("/v1/customers", headers=marketer, params={"cursor": customers_cursor}).status_code == 200
    for cursor in ("not-a-cursor", "W10=", customers_cursor):
        path = "/v1/offers" if cursor == customers_cursor else "/v1/customers"  # another list's cursor
        r = client.get(path, headers=marketer, params={"cursor": cursor})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_cursor", cursor


def _put_product(session_factory: sessionmaker[Session], workspace: str, sku: str, **fields: Any) -> None:
    # Through the domain, not PUT /v1/products: the route also starts a background re-index.
    with write(session_factory) as s:
        upsert_product(s, workspace, sku, ProductIn.model_validate(fields))


def test_cursor_pages_walk_everything_once_while_rows_are_added(
    client: TestClient, marketer: dict[str, str], session_factory: sessionmaker[Session], workspace: str
) -> None:
    for i in range(7):
        _put_product(session_factory, workspace, f"SKU-{i}", name=f"Product {i}", category="Tents")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/products", headers=marketer, params=params).json()
        seen += [p["sku"] for p in page["items"]]
        pages += 1
        if pages == 1:  # a newer product arrives between pages: it is not served in this walk, nothing is skipped
            _put_product(session_factory, workspace, "SKU-new", name="Newest")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"SKU-{i}" for i in reversed(range(7))] and pages == 3
    assert _ids(client, "/v1/products", marketer, category="tents", q="product 3") == ["SKU-3"]
    _put_product(session_factory, workspace, "SKU-1", name="Product 1", active=False)
    assert _ids(client, "/v1/products", marketer, active="false") == ["SKU-1"]


def test_offers_and_campaigns_lists(
    client: TestClient,
    admin: dict[str, str],
    marketer: dict[str, str],
    session_factory: sessionmaker[Session],
    workspace: str,
) -> None:
    client.put("/v1/offers/SPRING", json={"title": "Spring sale", "code": "SPRING20", "discount_value": "20"},
               headers=admin)  # fmt: skip
    client.put("/v1/offers/OLD", json={"title": "Old offer", "active": False}, headers=admin)
    assert _ids(client, "/v1/offers", marketer) == ["OLD", "SPRING"]
    assert _ids(client, "/v1/offers", marketer, q="spring20") == ["SPRING"]
    assert _ids(client, "/v1/offers", marketer, active="true") == ["SPRING"]
    offer = client.get("/v1/offers", headers=marketer, params={"q": "spring"}).json()["items"][0]
    assert (offer["code"], offer["discount_value"], offer["discount_type"]) == ("SPRING20", "20.00", "percent")
    with write(session_factory) as s:
        for name, status in (("Spring launch", "completed"), ("Winter tents", "running")):
            s.add(Campaign(workspace_id=workspace, name=name, brief={"goal": "cross_sell"}, channels=["email"],
                           audience={"customer_ids": []}, status=status))  # fmt: skip
    campaigns = client.get("/v1/campaigns", headers=marketer).json()["items"]
    assert [c["name"] for c in campaigns] == ["Winter tents", "Spring launch"]
    assert [c["name"] for c in client.get("/v1/campaigns", headers=marketer, params={"status": "completed"}).json()[
        "items"]] == ["Spring launch"]  # fmt: skip
    assert client.get("/v1/campaigns", headers=marketer, params={"status": "nope"}).status_code == 422


@pytest.mark.usefixtures("customers")
def test_lists_are_per_workspace_and_for_admin_and_marketer_keys(
    client: TestClient, keys: dict[Role, str], session_factory: sessionmaker[Session]
) -> None:
    from tests.conftest import make_keys

    with write(session_factory) as s:
        from copyloom.domain.workspaces import create_workspace

        create_workspace(s, "other", "Other")
    other = make_keys(session_factory, "other")
    assert _ids(client, "/v1/customers", auth(other[Role.MARKETER])) == []
    for role in (Role.JOURNEY, Role.REVIEWER):
        for path in ("/v1/customers", "/v1/products", "/v1/offers", "/v1/campaigns"):
            assert client.get(path, headers=auth(keys[role])).status_code == 403
