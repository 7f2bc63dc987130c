"""Batch import semantics: savepoints per row, skip reasons, updated vs unchanged, consent history rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.db import write
from copyloom.domain.catalogue import OfferIn, upsert_offer
from copyloom.domain.consents import ConsentIn, record_consent
from copyloom.domain.customers import CustomerIn, import_customers, upsert_customer
from copyloom.domain.imports import BadRow, ImportReport, import_rows
from copyloom.domain.tabular import csv_row_to_payload, parse_ndjson
from copyloom.errors import InvalidInput
from copyloom.models import Consent, Customer

pytestmark = pytest.mark.store


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_row_failing_half_way_leaves_nothing(session_factory: sessionmaker[Session], workspace: str) -> None:
    def apply(s: Session, record: CustomerIn) -> str:
        upsert_customer(s, workspace, "half", record)
        raise InvalidInput("refused after the insert", field="name")

    with write(session_factory) as s:
        report = import_rows(s, [{"name": "Ana"}], CustomerIn, apply)  # type: ignore[arg-type]
        import_customers(s, workspace, [{"id": "whole", "name": "Bo"}])
    assert [(k.reason, k.field) for k in report.skipped] == [("invalid_input", "name")]
    with write(session_factory) as s:
        assert list(s.scalars(select(Customer.external_id))) == ["whole"]


def test_updated_versus_unchanged(session_factory: sessionmaker[Session], workspace: str) -> None:
    rows: list[object] = [{"id": "a", "name": "Ana", "email": "ana@example.com"}, BadRow("invalid_json", "x")]
    with write(session_factory) as s:
        first = import_customers(s, workspace, rows)
        same = import_customers(s, workspace, rows)
        changed = import_customers(s, workspace, [{"id": "a", "email": "ana@new.example"}])
    assert (first.inserted, first.skipped_count, first.skipped[0].reason) == (1, 1, "invalid_json")
    assert (same.inserted, same.unchanged) == (0, 1)
    assert (changed.updated, changed.unchanged) == (1, 0)


def test_report_merge_and_listing_cap() -> None:
    a, b = ImportReport(inserted=1), ImportReport()
    for i in range(1500):
        b.skip(i, "invalid_input")
    a.merge(b)
    assert a.skipped_count == 1500 and len(a.skipped) == 1000 and a.total == 1501


def test_consent_without_time_does_not_grow_history(session_factory: sessionmaker[Session], workspace: str) -> None:
    granted = ConsentIn(customer_id="c", purpose="marketing", channel="email", status="granted")  # type: ignore[arg-type]
    with write(session_factory) as s:
        upsert_customer(s, workspace, "c", CustomerIn(name="C"))
        outcomes = [record_consent(s, workspace, granted)[1] for _ in range(3)]
        withdrawn = ConsentIn.model_validate(granted.model_dump() | {"status": "withdrawn"})
        outcomes.append(record_consent(s, workspace, withdrawn)[1])
        assert _count(s, Consent) == 2
    assert outcomes == ["inserted", "unchanged", "unchanged", "inserted"]


def test_consent_in_the_future_is_refused() -> None:
    with pytest.raises(ValueError, match="future"):
        ConsentIn.model_validate({"customer_id": "c", "purpose": "marketing", "channel": "sms", "status": "granted",
                                  "recorded_at": datetime(2999, 1, 1, tzinfo=UTC)})  # fmt: skip


def test_amount_offer_needs_currency_and_times_are_utc(session_factory: sessionmaker[Session], workspace: str) -> None:
    with pytest.raises(ValueError, match="currency"):
        OfferIn.model_validate({"title": "5 off", "discount_type": "amount", "discount_value": 5})
    offer = OfferIn.model_validate({"title": "T", "valid_from": "2026-03-01T08:00:00+08:00"})
    assert offer.valid_from == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    with write(session_factory) as s:
        assert upsert_offer(s, workspace, "o", offer)[1] == "inserted"
        assert upsert_offer(s, workspace, "o", offer)[1] == "unchanged"


def test_csv_and_ndjson_readers() -> None:
    row = {"id": "a", "name": "", "attributes": '{"tier": "gold"}', "attributes.app": "yes", "eligible_skus": "A| B"}
    assert csv_row_to_payload(row) == {
        "id": "a",
        "attributes": {"tier": "gold", "app": "yes"},
        "eligible_skus": ["A", "B"],
    }
    assert isinstance(csv_row_to_payload({"attributes": "{oops"}), BadRow)
    parsed = list(parse_ndjson(['{"a": 1}', "", "nope", b'{"b": 2}']))
    assert parsed[0] == {"a": 1} and isinstance(parsed[1], BadRow) and parsed[2] == {"b": 2}
