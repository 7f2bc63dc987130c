"""Segment messages → customers, orders and events (the mapping, without HTTP)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.db import write
from copyloom.domain.segment import ingest_segment_batch
from copyloom.models import Customer, Event, Order
from copyloom.retrieval.customer_data import load_personal_data

pytestmark = pytest.mark.store


def test_identify_maps_traits_and_merges_attributes(session_factory: sessionmaker[Session], workspace: str) -> None:
    batch: list[object] = [
        {"type": "identify", "userId": "u1", "traits": {"name": "Ana", "country": "Portugal", "tier": "gold"},
         "context": {"locale": "pt-PT", "timezone": "Europe/Lisbon"}},
        {"type": "identify", "userId": "u1", "traits": {"interests": ["hiking"]}},
    ]  # fmt: skip
    with write(session_factory) as s:
        report = ingest_segment_batch(s, workspace, batch)
        c = s.scalars(select(Customer)).one()
        assert (c.name, c.locale, c.time_zone, c.country) == ("Ana", "pt-PT", "Europe/Lisbon", None)
        assert c.attributes == {"tier": "gold", "country_name": "Portugal", "interests": ["hiking"]}
    assert (report.inserted, report.updated, report.customers_created) == (1, 1, 1)


def test_a_bad_order_rolls_back_the_customer_it_created(session_factory: sessionmaker[Session], workspace: str) -> None:
    bad = {"type": "track", "userId": "new", "event": "Order Completed",
           "properties": {"order_id": "o1", "products": [{"sku": "A", "price": -3}]}}  # fmt: skip
    with write(session_factory) as s:
        report = ingest_segment_batch(s, workspace, [bad])
        assert s.scalars(select(Customer)).all() == [] and s.scalars(select(Order)).all() == []
    assert (report.skipped[0].field, report.customers_created) == ("properties.lines.0.unit_price", 0)


def test_order_total_defaults_to_lines_and_screen_is_an_event(
    session_factory: sessionmaker[Session], workspace: str
) -> None:
    batch: list[object] = [
        {"type": "track", "userId": "u", "event": "Order Completed", "timestamp": "2026-05-01T10:00:00Z",
         "properties": {"order_id": 7, "products": [{"product_id": "A", "price": 10, "quantity": 3}]}},
        {"type": "screen", "userId": "u", "name": "Cart", "messageId": "s-1"},
    ]  # fmt: skip
    with write(session_factory) as s:
        ingest_segment_batch(s, workspace, batch)
        order = s.scalars(select(Order)).one()
        assert (order.external_id, order.total, order.currency) == ("7", 30, "USD")
        event = s.scalars(select(Event)).one()
        assert (event.name, event.properties, event.external_id) == ("Screen Viewed", {"name": "Cart"}, "s-1")


def _order_completed(order_id: str, skus: list[str], message_id: str) -> dict[str, object]:
    products = [{"sku": s, "price": 10, "quantity": 1} for s in skus]
    return {"type": "track", "userId": "u", "event": "Order Completed", "messageId": message_id,
            "properties": {"order_id": order_id, "products": products}}  # fmt: skip


def test_cancelled_and_refunded_orders_stop_being_purchases(
    session_factory: sessionmaker[Session], workspace: str
) -> None:
    batch: list[object] = [
        _order_completed("o1", ["A"], "m1"),
        _order_completed("o2", ["A", "B"], "m2"),
        _order_completed("o3", ["A", "B"], "m3"),
        {"type": "track", "userId": "u", "event": "Order Cancelled", "messageId": "m4",
         "properties": {"order_id": "o1"}},
        {"type": "track", "userId": "u", "event": "Order Refunded", "messageId": "m5",
         "properties": {"order_id": "o2"}},
        # A refund of one product of two: the other was still bought.
        {"type": "track", "userId": "u", "event": "Order Refunded", "messageId": "m6",
         "properties": {"order_id": "o3", "products": [{"sku": "B"}]}},
        # A late retry of the first purchase does not revive the cancelled order.
        _order_completed("o1", ["A"], "m1-retry"),
        # An order never seen: the event is kept, nothing else changes.
        {"type": "track", "userId": "u", "event": "Order Refunded", "messageId": "m7",
         "properties": {"order_id": "nope"}},
    ]  # fmt: skip
    with write(session_factory) as s:
        report = ingest_segment_batch(s, workspace, batch)
        assert report.skipped == []
        statuses = dict(s.execute(select(Order.external_id, Order.status)).tuples().all())
        assert statuses == {"o1": "cancelled", "o2": "refunded", "o3": "completed"}
        names = sorted(e.name for e in s.scalars(select(Event)))
        assert names == ["Order Cancelled", "Order Refunded", "Order Refunded", "Order Refunded"]
        customer = s.scalars(select(Customer)).one()
        data = load_personal_data(s, customer)
        assert {line.order_external_id for line in data.recent_lines} == {"o3"}
        assert data.summary is not None and data.summary.orders == 1
