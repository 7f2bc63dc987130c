"""Writing a parsed Online Retail file: bulk inserts and updates, idempotent (a second run inserts nothing).

Everything runs in the caller's transaction; rows are compared with what is stored so that re-importing reports
"unchanged" and writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from copyloom.contracts.enums import OrderStatus
from copyloom.domain.imports import ImportReport, as_utc, money
from copyloom.domain.online_retail import (
    COUNTRIES,
    CURRENCY,
    ParseCounts,
    ParsedFile,
    Progress,
    parse_online_retail,
)
from copyloom.models import Customer, Order, OrderLine, Product

CHUNK = 5_000
LineKey = tuple[tuple[str, str | None, int, Decimal], ...]


class OnlineRetailReport(BaseModel):
    """What an Online Retail import read and wrote."""

    file_rows: ParseCounts
    customers: ImportReport = Field(default_factory=ImportReport)
    products: ImportReport = Field(default_factory=ImportReport)
    orders: ImportReport = Field(default_factory=ImportReport)
    orders_completed: int = 0
    orders_cancelled: int = 0
    order_lines_written: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.file_rows.rows / self.seconds if self.seconds else 0.0


def import_online_retail(
    session: Session, workspace_id: str, path: Path, progress: Progress | None = None
) -> OnlineRetailReport:
    """Import a UCI Online Retail CSV (optionally .gz) into the workspace; see ``online_retail`` for the rules."""
    started = time.perf_counter()
    parsed = parse_online_retail(path, progress)
    report = OnlineRetailReport(file_rows=parsed.counts)
    _write_products(session, workspace_id, parsed, report.products)
    customer_ids = _write_customers(session, workspace_id, parsed, report.customers)
    _write_orders(session, workspace_id, parsed, customer_ids, report, progress)
    session.flush()
    report.seconds = time.perf_counter() - started
    return report


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _bulk(
    session: Session, model: type[Any], inserts: Sequence[dict[str, Any]], updates: Sequence[dict[str, Any]]
) -> None:
    for chunk in _chunks(inserts):
        session.execute(insert(model), chunk)
    for chunk in _chunks(updates):
        session.execute(update(model), chunk)


def _write_products(session: Session, workspace_id: str, parsed: ParsedFile, report: ImportReport) -> None:
    stored = {
        sku: (pid, name, price, currency)
        for pid, sku, name, price, currency in session.execute(
            select(Product.id, Product.sku, Product.name, Product.price, Product.currency).where(
                Product.workspace_id == workspace_id
            )
        )
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for sku, learned in parsed.products.items():
        name = learned.name()
        if name is None:
            report.skip(0, "no_description", "Description", f"StockCode {sku} never has a description")
            continue
        price = learned.price()
        values = {"name": name[:300], "price": money(price) if price is not None else None, "currency": CURRENCY}
        current = stored.get(sku)
        if current is None:
            inserts.append({"workspace_id": workspace_id, "sku": sku, "active": True, **values})
            report.count("inserted")
        elif (current[1], current[2], current[3]) != (values["name"], values["price"], values["currency"]):
            updates.append({"id": current[0], **values})
            report.count("updated")
        else:
            report.count("unchanged")
    _bulk(session, Product, inserts, updates)


def _write_customers(session: Session, workspace_id: str, parsed: ParsedFile, report: ImportReport) -> dict[str, int]:
    query = select(Customer.id, Customer.external_id, Customer.country, Customer.time_zone, Customer.attributes)
    stored = {ext: (cid, country, tz, attrs) for cid, ext, country, tz, attrs in session.execute(
        query.where(Customer.workspace_id == workspace_id)
    )}  # fmt: skip
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for external_id, seen in parsed.countries.items():
        country_name = seen.most_common(1)[0][0]
        iso, zone = COUNTRIES.get(country_name, (None, None))
        current = stored.get(external_id)
        if current is None:
            attributes = {} if iso else {"country_name": country_name}
            inserts.append(
                {
                    "workspace_id": workspace_id,
                    "external_id": external_id,
                    "country": iso,
                    "time_zone": zone or "UTC",
                    "locale": "en",
                    "attributes": attributes,
                    "suppressed": False,
                }
            )
            report.count("inserted")
            continue
        _, country, tz, attrs = current
        want_attrs = dict(attrs or {}) | ({} if iso else {"country_name": country_name})
        want_tz = zone or tz
        if (country, tz, attrs) != (iso, want_tz, want_attrs):
            updates.append({"id": current[0], "country": iso, "time_zone": want_tz, "attributes": want_attrs})
            report.count("updated")
        else:
            report.count("unchanged")
    _bulk(session, Customer, inserts, updates)
    query_ids = select(Customer.external_id, Customer.id).where(Customer.workspace_id == workspace_id)
    return dict(session.execute(query_ids).all())


def _stored_orders(session: Session, workspace_id: str) -> dict[str, tuple[int, tuple[Any, ...], LineKey]]:
    heads = {
        oid: (ext, (cust, as_utc(placed), status, currency, total))
        for oid, ext, cust, placed, status, currency, total in session.execute(
            select(
                Order.id,
                Order.external_id,
                Order.customer_id,
                Order.placed_at,
                Order.status,
                Order.currency,
                Order.total,
            ).where(Order.workspace_id == workspace_id)
        )
    }
    if not heads:
        return {}
    lines: dict[int, list[tuple[str, str | None, int, Decimal]]] = {}
    for oid, sku, name, qty, price in session.execute(
        select(OrderLine.order_id, OrderLine.sku, OrderLine.name, OrderLine.quantity, OrderLine.unit_price)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.workspace_id == workspace_id)
        .order_by(OrderLine.order_id, OrderLine.position)
    ):
        lines.setdefault(oid, []).append((sku, name, qty, money(price)))
    return {ext: (oid, head, tuple(lines.get(oid, ()))) for oid, (ext, head) in heads.items()}


def _write_orders(
    session: Session,
    workspace_id: str,
    parsed: ParsedFile,
    customer_ids: dict[str, int],
    report: OnlineRetailReport,
    progress: Progress | None,
) -> None:
    stored = _stored_orders(session, workspace_id)
    new_orders: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    lines_for: dict[str, LineKey] = {}
    for external_id, invoice in parsed.invoices.items():
        status = OrderStatus.CANCELLED if invoice.cancelled else OrderStatus.COMPLETED
        report.orders_cancelled += invoice.cancelled
        report.orders_completed += not invoice.cancelled
        head = (customer_ids[invoice.customer], invoice.placed_at, status.value, CURRENCY, money(invoice.total))
        lines = tuple((sku, name[:300] if name else None, qty, money(p)) for sku, name, qty, p in invoice.lines)
        current = stored.get(external_id)
        values = dict(zip(("customer_id", "placed_at", "status", "currency", "total"), head, strict=True))
        if current is None:
            new_orders.append({"workspace_id": workspace_id, "external_id": external_id, **values})
            lines_for[external_id] = lines
            report.orders.count("inserted")
        elif (current[1], current[2]) != (head, lines):
            changed.append({"id": current[0], **values})
            lines_for[external_id] = lines
            report.orders.count("updated")
        else:
            report.orders.count("unchanged")
    _bulk(session, Order, new_orders, changed)
    replaced = [row["id"] for row in changed]
    for start in range(0, len(replaced), 500):
        session.execute(delete(OrderLine).where(OrderLine.order_id.in_(replaced[start : start + 500])))
    ids = dict(session.execute(select(Order.external_id, Order.id).where(Order.workspace_id == workspace_id)).all())
    line_rows = [
        {"order_id": ids[ext], "position": i, "sku": sku, "name": name, "quantity": qty, "unit_price": price}
        for ext, lines in lines_for.items()
        for i, (sku, name, qty, price) in enumerate(lines)
    ]
    for done, chunk in enumerate(_chunks(line_rows), start=1):
        session.execute(insert(OrderLine), chunk)
        if progress is not None:
            progress("write", min(done * CHUNK, len(line_rows)), len(line_rows))
    report.order_lines_written = len(line_rows)
