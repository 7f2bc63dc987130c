"""The Online Retail importer on a committed sample (every awkward case) and, marked slow, on the full file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.db import write
from copyloom.domain.online_retail import is_fee_code
from copyloom.domain.online_retail_store import import_online_retail
from copyloom.errors import InvalidInput
from copyloom.models import Customer, Order, OrderLine, Product
from tests.conftest import SHARED_DATA

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "online_retail_sample.csv"
FULL = SHARED_DATA / "online_retail" / "online_retail.csv.gz"
pytestmark = pytest.mark.store


def _table_counts(session: Session) -> dict[str, int]:
    return {
        m.__name__: session.scalar(select(func.count()).select_from(m)) or 0
        for m in (Customer, Product, Order, OrderLine)
    }


def test_sample_is_imported_deliberately(session_factory: sessionmaker[Session], workspace: str) -> None:
    with write(session_factory) as s:
        report = import_online_retail(s, workspace, SAMPLE)
    rows = report.file_rows
    assert (rows.rows, rows.duplicate_rows, rows.stock_adjustment_rows, rows.rows_without_customer) == (295, 6, 10, 55)
    assert (report.customers.inserted, report.products.inserted) == (51, 186)
    assert (report.orders_completed, report.orders_cancelled, report.order_lines_written) == (43, 18, 199)
    with write(session_factory) as s:
        assert _table_counts(s) == {"Customer": 51, "Product": 186, "Order": 61, "OrderLine": 199}
        assert not any(is_fee_code(sku) for sku in s.scalars(select(Product.sku)))
        heart = s.scalars(select(Product).where(Product.sku == "85123A")).one()
        assert (heart.name, heart.price, heart.currency) == (
            "WHITE HANGING HEART T-LIGHT HOLDER",
            Decimal("2.55"),
            "GBP",
        )
        c = s.scalars(select(Customer).where(Customer.external_id == "17850")).one()
        assert (c.country, c.time_zone) == ("GB", "Europe/London")
        cancelled = s.scalars(select(Order).where(Order.status == "cancelled")).all()
        assert len(cancelled) == 18 and all(o.external_id.startswith("C") for o in cancelled)
        assert all(line.quantity > 0 for o in cancelled for line in o.lines) and all(o.total >= 0 for o in cancelled)
        first = s.scalars(select(Order).where(Order.external_id == "536365")).one()
        assert first.placed_at.isoformat() == "2010-12-01T08:26:00+00:00"  # GMT in December


def test_second_import_inserts_nothing(session_factory: sessionmaker[Session], workspace: str) -> None:
    with write(session_factory) as s:
        import_online_retail(s, workspace, SAMPLE)
    with write(session_factory) as s:
        before = _table_counts(s)
        again = import_online_retail(s, workspace, SAMPLE)
    for part in (again.customers, again.products, again.orders):
        assert (part.inserted, part.updated) == (0, 0)
    assert again.order_lines_written == 0
    with write(session_factory) as s:
        assert _table_counts(s) == before


def test_changed_order_is_updated_not_duplicated(
    session_factory: sessionmaker[Session], workspace: str, tmp_path: Path
) -> None:
    with write(session_factory) as s:
        import_online_retail(s, workspace, SAMPLE)
    text = SAMPLE.read_text().replace("536365,71053,WHITE METAL LANTERN,6,", "536365,71053,WHITE METAL LANTERN,7,")
    changed = tmp_path / "changed.csv"
    changed.write_text(text)
    with write(session_factory) as s:
        report = import_online_retail(s, workspace, changed)
    assert (report.orders.inserted, report.orders.updated) == (0, 1)
    with write(session_factory) as s:
        order = s.scalars(select(Order).where(Order.external_id == "536365")).one()
        assert [ln.quantity for ln in order.lines if ln.sku == "71053"] == [7]
        assert _table_counts(s)["OrderLine"] == 199


def test_wrong_columns_are_rejected(session_factory: sessionmaker[Session], workspace: str, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInput) as info, write(session_factory) as s:
        import_online_retail(s, workspace, other)
    assert info.value.field == "file"


@pytest.mark.slow
def test_full_file(session_factory: sessionmaker[Session], workspace: str) -> None:
    if not FULL.exists():
        pytest.skip(f"{FULL} is not present")
    with write(session_factory) as s:
        report = import_online_retail(s, workspace, FULL)
    assert report.file_rows.rows == 541_909 and report.customers.inserted == 4_372
    assert (report.orders_completed, report.orders_cancelled) == (18_536, 3_654)
    with write(session_factory) as s:
        again = import_online_retail(s, workspace, FULL)
    assert again.customers.inserted + again.products.inserted + again.orders.inserted == 0
    assert again.orders.unchanged == 22_190
