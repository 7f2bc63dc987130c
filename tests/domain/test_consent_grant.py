"""Granting a stated purpose and channel to an imported audience; one 422 naming every missing field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Channel, Purpose
from copyloom.db import write
from copyloom.domain.consents import ConsentIn, grant_consents, latest_consent, parse_grant, record_consent
from copyloom.domain.customers import get_customer, import_customers
from copyloom.domain.imports import validate
from copyloom.domain.tabular import read_ids
from copyloom.errors import InvalidInput
from copyloom.models import Consent

pytestmark = pytest.mark.store
EMAIL = [(Purpose.MARKETING, Channel.EMAIL)]


def test_grant_records_the_source_and_never_overrides_a_withdrawal(
    session_factory: sessionmaker[Session], workspace: str
) -> None:
    with write(session_factory) as s:
        import_customers(s, workspace, [{"id": "a"}, {"id": "b"}])
        withdrawn = ConsentIn(customer_id="b", purpose="marketing", channel="email", status="withdrawn",
                              recorded_at=datetime(2024, 1, 1, tzinfo=UTC), source="unsubscribe-link")  # fmt: skip
        record_consent(s, workspace, withdrawn)
        report = grant_consents(s, workspace, EMAIL, ["a", "b", "nobody"], source="signup form")
    assert (report.inserted, report.skipped_count) == (1, 2)
    assert sorted(k.reason for k in report.skipped) == ["consent_withdrawn", "customer_not_found"]
    with write(session_factory) as s:
        a = latest_consent(s, get_customer(s, workspace, "a").id, "marketing", "email")
        b = latest_consent(s, get_customer(s, workspace, "b").id, "marketing", "email")
        assert a is not None and (a.status, a.source) == ("granted", "signup form")
        assert b is not None and b.status == "withdrawn"
        again = grant_consents(s, workspace, EMAIL, ["a"], source="signup form")
        assert (again.inserted, again.unchanged) == (0, 1)
        assert len(list(s.scalars(select(Consent)))) == 2


def test_grant_needs_a_source_and_a_pair(session_factory: sessionmaker[Session], workspace: str) -> None:
    with write(session_factory) as s:
        with pytest.raises(InvalidInput) as no_source:
            grant_consents(s, workspace, EMAIL, ["a"], source=" ")
        with pytest.raises(InvalidInput) as no_pair:
            grant_consents(s, workspace, [], ["a"], source="x")
    assert (no_source.value.field, no_pair.value.field) == ("source", "grant")


def test_parse_grant() -> None:
    assert parse_grant("personalization:sms") == (Purpose.PERSONALIZATION, Channel.SMS)
    for bad in ("marketing", "marketing:fax", "email:marketing"):
        with pytest.raises(InvalidInput):
            parse_grant(bad)


def test_one_422_names_every_missing_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(ConsentIn, {"customer_id": "a", "channel": "fax"})
    err = caught.value
    assert err.message.startswith("missing fields: purpose, status")
    assert "channel" in err.message
    assert [e["field"] for e in err.details["errors"]] == ["purpose", "channel", "status"]


def test_read_ids_from_a_list_or_a_table(tmp_path: Path) -> None:
    listed = tmp_path / "audience.txt"
    listed.write_text("# spring list\n12347\n\n12348\n12347\n")
    table = tmp_path / "audience.csv"
    table.write_text("customer_id,segment\n12350,x\n12347,y\n")
    assert read_ids(listed) == ["12347", "12348"]
    assert read_ids(table) == ["12350", "12347"]
    broken = tmp_path / "broken.csv"
    broken.write_text("segment\nx\n")
    with pytest.raises(InvalidInput):
        read_ids(broken)


def test_bulk_grant_inserts_one_batch_per_statement_with_its_source_and_is_idempotent(
    session_factory: sessionmaker[Session], workspace: str
) -> None:
    ids = [f"c{i:04d}" for i in range(25)]
    pairs = [(Purpose.MARKETING, Channel.EMAIL), (Purpose.PERSONALIZATION, Channel.EMAIL)]
    with write(session_factory) as s:
        import_customers(s, workspace, [{"id": i} for i in ids])
    inserts: list[tuple[bool, int]] = []  # (executemany?, rows) of each INSERT INTO consents

    def spy(_conn: object, _cursor: object, statement: str, params: object, _ctx: object, many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO CONSENTS"):
            inserts.append((many, len(params) if many else 1))  # type: ignore[arg-type]

    engine = session_factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", spy)
    try:
        with write(session_factory) as s:
            first = grant_consents(s, workspace, pairs, [*ids, "c0003", "nobody"], source="2011 checkout", batch=10)
        with write(session_factory) as s:
            again = grant_consents(s, workspace, pairs, ids, source="2011 checkout", batch=10)
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert (first.inserted, first.unchanged, first.skipped_count) == (50, 2, 2)  # c0003 twice: its second is unchanged
    assert [k.row for k in first.skipped] == [53, 54] and {k.reason for k in first.skipped} == {"customer_not_found"}
    assert (again.inserted, again.unchanged) == (0, 50)
    # SQLAlchemy may send one batch as a multi-row VALUES (insertmanyvalues) or an executemany: either way one
    # statement per batch of 10 customers (20 rows), never one per row; the re-run inserts nothing.
    assert [rows for _, rows in inserts] in ([20, 20, 10], [1, 1, 1])
    with write(session_factory) as s:
        rows = s.execute(select(Consent.customer_id, Consent.purpose, Consent.status, Consent.source)).all()
    assert len(rows) == 50 and len({(r.customer_id, r.purpose) for r in rows}) == 50
    assert {(r.status, r.source) for r in rows} == {("granted", "2011 checkout")}
