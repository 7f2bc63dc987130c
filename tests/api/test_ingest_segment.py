"""The real segment-analytics-python client sends to a real copyloom server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from segment.analytics import Client
from segment.analytics.request import APIError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.models import Customer, Event, Order


@pytest.fixture
def server_url(app: Any) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _send(client: Client) -> None:
    client.identify("u-42", {"firstName": "Mei", "lastName": "Chen", "email": "mei@example.com",
                             "phone": "+86 138 0013 8000", "address": {"country": "CN"}, "timezone": "Asia/Shanghai",
                             "loyalty_tier": "silver"})  # fmt: skip
    client.track("u-42", "Order Completed", {
        "order_id": "ord-1001", "currency": "CNY", "total": 598,
        "products": [{"product_id": "TENT-2P", "name": "Trail Tent", "price": 499, "quantity": 1},
                     {"sku": "MUG", "name": "Enamel mug", "price": 49.5, "quantity": 2}]})  # fmt: skip
    client.track("u-42", "Event Attended", {"event": "Trail run, Hangzhou"}, message_id="m-attended-1")
    client.page("u-42", name="Tents", properties={"url": "https://shop.example/tents"})
    client.track("u-77", "App Member Joined")  # no identify yet: a minimal profile is created


@pytest.mark.parametrize("mode", ["sync", "batched-gzip"])
def test_segment_client_delivers_identify_track_and_orders(
    server_url: str, keys: dict[Role, str], session_factory: sessionmaker[Session], mode: str
) -> None:
    errors: list[Exception] = []
    client = Client(
        write_key=keys[Role.ADMIN],
        host=server_url,
        sync_mode=mode == "sync",
        gzip=mode != "sync",
        max_retries=0,
        on_error=lambda exc, _batch: errors.append(exc),
    )
    _send(client)
    _send(client)  # a retry of everything: stored once
    if mode != "sync":
        client.flush()
        client.join()
    assert errors == []
    with write(session_factory) as s:
        mei = s.scalars(select(Customer).where(Customer.external_id == "u-42")).one()
        assert (mei.name, mei.email, mei.phone, mei.country, mei.time_zone) == (
            "Mei Chen", "mei@example.com", "+8613800138000", "CN", "Asia/Shanghai"
        )  # fmt: skip
        assert mei.attributes["loyalty_tier"] == "silver"
        order = s.scalars(select(Order).where(Order.external_id == "ord-1001")).one()
        assert (order.currency, order.total, order.status) == ("CNY", 598, "completed")
        assert [(ln.sku, ln.quantity) for ln in order.lines] == [("TENT-2P", 1), ("MUG", 2)]
        events = s.execute(select(Event.name, Event.external_id).order_by(Event.name)).all()
        names = [name for name, _ in events]
        assert names.count("Event Attended") == 1 and names.count("App Member Joined") == 2  # fresh messageIds
        assert ("Event Attended", "m-attended-1") in events and "Page Viewed" in names
        assert s.scalars(select(Customer).where(Customer.external_id == "u-77")).one().name is None


def test_segment_rejects_wrong_keys_and_roles(server_url: str, keys: dict[Role, str]) -> None:
    wrong_roles = [(keys[role], 403) for role in (Role.REVIEWER, Role.JOURNEY, Role.MARKETER)]
    for key, status in [("cl_wrong", 401), *wrong_roles]:
        client = Client(write_key=key, host=server_url, sync_mode=True, max_retries=0)
        with pytest.raises(APIError) as info:
            client.track("u-1", "Something")
        assert info.value.status == status


def test_batch_reports_skips(server_url: str, keys: dict[Role, str]) -> None:
    batch = {"batch": [
        {"type": "track", "anonymousId": "anon-1", "event": "Viewed"},
        {"type": "alias", "userId": "u-1", "previousId": "anon-1"},
        {"type": "identify", "userId": "u-1", "traits": {"email": "nope"}},
        {"type": "track", "userId": "u-1", "event": "Order Completed", "properties": {"products": []}},
        {"type": "identify", "userId": "u-1", "traits": {"email": "ok@example.com"}},
    ]}  # fmt: skip
    r = httpx.post(f"{server_url}/v1/batch", json=batch, auth=(keys[Role.ADMIN], ""))
    assert r.status_code == 200
    report = r.json()
    assert report["inserted"] == 1
    assert [(s["row"], s["reason"], s["field"]) for s in report["skipped"]] == [
        (1, "anonymous_only", "userId"),
        (2, "unsupported_type", "type"),
        (3, "invalid_input", "traits.email"),
        (4, "invalid_input", "properties.id"),
    ]
    bad = httpx.post(f"{server_url}/v1/batch", content=b"{nope", auth=(keys[Role.ADMIN], ""))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_json"
