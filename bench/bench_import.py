"""Import throughput: the full UCI Online Retail file (first run and idempotent re-run) and batch customer imports.

    python bench/bench_import.py [--file PATH] [--customers 20000] [--database-url URL]

Uses a temporary SQLite data directory unless --database-url is given. Prints rows/s, the counts of customers,
products and orders (completed vs cancelled) and the ratio of the re-run to the first run. Exits 0 with a message
when the shared file is absent.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.db import make_engine, make_session_factory, upgrade, write
from copyloom.domain.customers import import_customers
from copyloom.domain.online_retail_store import OnlineRetailReport, import_online_retail
from copyloom.domain.workspaces import create_workspace
from copyloom.models import Customer, Order, OrderLine, Product

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


def _retail(factory: sessionmaker[Session], path: Path) -> tuple[OnlineRetailReport, float]:
    started = time.perf_counter()
    with write(factory) as session:
        report = import_online_retail(session, "retail", path)
    return report, time.perf_counter() - started  # includes the commit


def _customers(factory: sessionmaker[Session], n: int) -> tuple[float, float]:
    rows: list[object] = [
        {"id": f"b-{i}", "name": f"Customer {i}", "email": f"c{i}@example.com", "country": "GB",
         "phone": f"+44 7700 9{i % 100000:05d}", "attributes": {"tier": "gold" if i % 7 == 0 else "basic"}}
        for i in range(n)
    ]  # fmt: skip
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        with write(factory) as session:
            import_customers(session, "batch", rows)
        timings.append(time.perf_counter() - started)
    return n / timings[0], n / timings[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if not args.file.exists():
        print(f"{args.file} is absent: nothing to measure")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.database_url or f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        factory = make_session_factory(engine)
        with write(factory) as session:
            create_workspace(session, "retail")
            create_workspace(session, "batch")
        first, first_s = _retail(factory, args.file)
        second, second_s = _retail(factory, args.file)
        with write(factory) as session:
            counted = {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in (Customer, Product, Order, OrderLine)}  # fmt: skip
            by_status = dict(session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
        rows = first.file_rows.rows
        print(f"online retail: {rows:,} rows")
        print(f"  first import : {first_s:6.1f} s  {rows / first_s:9,.0f} rows/s (incl. commit)")
        print(f"  second import: {second_s:6.1f} s  {rows / second_s:9,.0f} rows/s; ratio {second_s / first_s:.2f}")
        print(f"  second run inserted: customers {second.customers.inserted}, products {second.products.inserted}, "
              f"orders {second.orders.inserted}")  # fmt: skip
        print(f"  stored: {counted}; orders by status: {by_status}")
        first_rate, second_rate = _customers(factory, args.customers)
        print(f"customers batch import ({args.customers:,} rows, savepoint per row): {first_rate:,.0f} rows/s new, "
              f"{second_rate:,.0f} rows/s re-import")  # fmt: skip
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
