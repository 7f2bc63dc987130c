"""``copyloom import …``: first-party data files into a workspace, idempotently, with a progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.orm import Session

from copyloom.cli._common import console, handle_errors, open_db, print_json, resolve_workspace
from copyloom.cli.retrieval import index
from copyloom.db import session_scope
from copyloom.domain.activity import import_events
from copyloom.domain.catalogue import import_offers, import_products
from copyloom.domain.consents import import_consents
from copyloom.domain.customers import import_customers
from copyloom.domain.imports import ImportReport
from copyloom.domain.online_retail_store import OnlineRetailReport, import_online_retail
from copyloom.domain.tabular import read_rows

import_app = typer.Typer(
    help="Import first-party data files (CSV with a header row, NDJSON/.jsonl, or a JSON array; .gz works too). "
    "Re-importing the same file changes nothing. In CSV an empty cell means 'not sent'; list columns are "
    "separated by '|'; object columns hold JSON and 'attributes.<key>' columns add one entry each.",
    no_args_is_help=True,
)

Importer = Callable[[Session, str, Iterable[object]], ImportReport]
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to import.")]
WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="The workspace (brand) to import into.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
IndexOpt = Annotated[
    bool, typer.Option("--index/--no-index", help="Embed new or changed products afterwards, so search sees them.")
]


def _counting(rows: Iterable[object], progress: Progress, task: TaskID) -> Iterator[object]:
    for row in rows:
        yield row
        progress.advance(task)


def _run(importer: Importer, path: Path, workspace: str, as_json: bool) -> None:
    _, factory = open_db()
    started = time.perf_counter()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn())
    with session_scope(factory) as session, Progress(*columns, console=console, transient=True) as progress:
        resolve_workspace(session, workspace)
        task = progress.add_task(f"importing {path.name}", total=None)
        report = importer(session, workspace, _counting(read_rows(path), progress, task))
    seconds = time.perf_counter() - started
    if as_json:
        print_json(report.model_dump() | {"seconds": round(seconds, 3)})
        return
    typer.echo(
        f"{path.name}: {report.inserted} inserted, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.skipped_count} skipped ({report.total / seconds if seconds else 0:.0f} rows/s)"
    )
    for skip in report.skipped[:50]:
        field = f" [{skip.field}]" if skip.field else ""
        typer.echo(f"  row {skip.row}: {skip.reason}{field} {skip.message}", err=True)


@import_app.command("customers")
@handle_errors
def customers(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False) -> None:
    """Customers. Columns: id (required), name, email, phone, country (ISO alpha-2), locale (BCP 47),
    time_zone (IANA), birth_date (YYYY-MM-DD), suppressed, suppressed_reason, attributes (JSON) or attributes.<key>.
    """
    _run(import_customers, file, workspace, as_json)


@import_app.command("products")
@handle_errors
def products(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False, reindex: IndexOpt = True) -> None:
    """Products. Columns: sku (required), name (required), category, price, currency, description, url, active."""
    _run(import_products, file, workspace, as_json)
    if reindex:
        index(workspace=workspace)


@import_app.command("offers")
@handle_errors
def offers(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False) -> None:
    """Offers. Columns: id and title (required), description, discount_type (percent|amount|free_shipping),
    discount_value, currency, code, valid_from, valid_to (ISO 8601), eligible_skus and eligible_categories
    ('|'-separated), eligibility (JSON such as {"loyalty_tier": ["gold"]}), active.
    """
    _run(import_offers, file, workspace, as_json)


@import_app.command("consents")
@handle_errors
def consents(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False) -> None:
    """Consent records. Columns: customer_id, purpose (marketing|personalization|transactional), channel
    (email|sms|push|in_app|whatsapp|web), status (granted|withdrawn), recorded_at (ISO 8601), source,
    wording_version. The customers must exist.
    """
    _run(import_consents, file, workspace, as_json)


@import_app.command("events")
@handle_errors
def events(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False) -> None:
    """Events. Columns: customer_id, name, timestamp (ISO 8601), message_id (optional; else a content hash),
    properties (JSON) or properties.<key>. The customers must exist.
    """
    _run(import_events, file, workspace, as_json)


def _print_retail(report: OnlineRetailReport) -> None:
    rows = report.file_rows
    typer.echo(
        f"read {rows.rows} rows in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s): "
        f"{rows.duplicate_rows} duplicates dropped, {rows.rows_without_customer} without CustomerID (catalogue only), "
        f"{rows.stock_adjustment_rows} stock adjustments, {rows.fee_rows} fee rows, {rows.zero_price_rows} at "
        f"price 0, {rows.malformed_rows} malformed"
    )
    for label, part in (("customers", report.customers), ("products", report.products), ("orders", report.orders)):
        typer.echo(f"{label}: {part.inserted} inserted, {part.updated} updated, {part.unchanged} unchanged")
    typer.echo(
        f"orders in file: {report.orders_completed} completed, {report.orders_cancelled} cancelled; "
        f"{report.order_lines_written} order lines written"
    )


@import_app.command("online-retail")
@handle_errors
def online_retail(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False, reindex: IndexOpt = True) -> None:
    """The UCI "Online Retail" file (InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
    CustomerID, Country), plain or .gz: cancellations become cancelled orders, rows without CustomerID only
    teach the catalogue, fee codes (POST, M, BANK CHARGES, …) are not products, prices are GBP.
    """
    _, factory = open_db()
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"))
    with session_scope(factory) as session, Progress(*columns, console=console, transient=True) as progress:
        resolve_workspace(session, workspace)
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                label = {"read": f"reading {file.name}", "orders": "writing order lines"}.get(phase, phase)
                tasks[phase] = progress.add_task(label, total=total)
            progress.update(tasks[phase], completed=done, total=total)

        report = import_online_retail(session, workspace, file, update)
    if as_json:
        print_json(report.model_dump() | {"rows_per_second": round(report.rows_per_second)})
    else:
        _print_retail(report)
    if reindex:
        index(workspace=workspace)
