"""``copyloom import …``: first-party data files into a workspace, idempotently, with a progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from copyloom.cli._common import handle_errors, open_db, print_json, resolve_workspace
from copyloom.cli.progress import Phases

if TYPE_CHECKING:  # the domain modules are imported by the command that runs (fast start, see cli/__init__.py)
    from sqlalchemy.orm import Session

    from copyloom.domain.imports import ImportReport
    from copyloom.domain.online_retail_store import OnlineRetailReport

import_app = typer.Typer(
    help="Import first-party data files (CSV with a header row, NDJSON/.jsonl, or a JSON array; .gz works too). "
    "Re-importing the same file changes nothing. In CSV an empty cell means 'not sent'; list columns are "
    "separated by '|'; object columns hold JSON and 'attributes.<key>' columns add one entry each.",
    no_args_is_help=True,
)

Importer = Callable[["Session", str, Iterable[object]], "ImportReport"]
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to import.")]
WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="The workspace (brand) to import into.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
IndexOpt = Annotated[
    bool, typer.Option("--index/--no-index", help="Embed new or changed products afterwards, so search sees them.")
]


def _run(importer: Importer, path: Path, workspace: str, as_json: bool) -> None:
    from copyloom.db import write
    from copyloom.domain.tabular import read_rows

    started = time.perf_counter()

    with open_db() as (_, factory), write(factory) as session, Phases() as phases:
        resolve_workspace(session, workspace)
        rows = phases.counting("import", f"import {path.name}", read_rows(path))
        report = importer(session, workspace, rows)
    _print_report(path.name, report, time.perf_counter() - started, as_json)


def _print_report(label: str, report: ImportReport, seconds: float, as_json: bool) -> None:
    if as_json:
        print_json(report.model_dump() | {"seconds": round(seconds, 3)})
        return
    typer.echo(
        f"{label}: {report.inserted} inserted, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.skipped_count} skipped ({report.total / seconds if seconds else 0:.0f} rows/s)"
    )
    for skip in report.skipped[:50]:
        field = f" [{skip.field}]" if skip.field else ""
        typer.echo(f"  row {skip.row}: {skip.reason}{field} {skip.message}", err=True)


def _reindex(workspace: str) -> None:
    from copyloom.cli.retrieval import index

    index(workspace=workspace)


@import_app.command("customers")
@handle_errors
def customers(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False) -> None:
    """Customers. Columns: id (required), name, email, phone, country (ISO alpha-2), locale (BCP 47),
    time_zone (IANA), birth_date (YYYY-MM-DD), suppressed, suppressed_reason, attributes (JSON) or attributes.<key>.
    """
    from copyloom.domain.customers import import_customers

    _run(import_customers, file, workspace, as_json)


@import_app.command("products")
@handle_errors
def products(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False, reindex: IndexOpt = True) -> None:
    """Products. Columns: sku (required), name (required), category, price, currency, description, url, active."""
    from copyloom.domain.catalogue import import_products

    _run(import_products, file, workspace, as_json)
    if reindex:
        _reindex(workspace)


@import_app.command("offers")
@handle_errors
def offers(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False) -> None:
    """Offers. Columns: id and title (required), description, discount_type (percent|amount|free_shipping),
    discount_value, currency, code, valid_from, valid_to (ISO 8601), eligible_skus and eligible_categories
    ('|'-separated), eligibility (JSON such as {"loyalty_tier": ["gold"]}), active.
    """
    from copyloom.domain.catalogue import import_offers

    _run(import_offers, file, workspace, as_json)


GrantOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--grant",
        metavar="PURPOSE:CHANNEL",
        help="Record 'granted' for this purpose and channel (repeatable), e.g. marketing:email.",
    ),
]


@import_app.command("consents")
@handle_errors
def consents(
    workspace: WorkspaceOpt,
    file: Annotated[
        Path | None,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="Consent records (CSV or NDJSON)."),
    ] = None,
    grant: GrantOpt = None,
    all_customers: Annotated[bool, typer.Option("--all", help="Grant to every customer of the workspace.")] = False,
    customers_file: Annotated[
        Path | None,
        typer.Option(
            "--customers",
            exists=True,
            dir_okay=False,
            readable=True,
            help="Grant to the customers listed in this file (one id a line, or CSV/NDJSON with customer_id or id).",
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Where the consent was collected (stored with each record); needed by --grant.")
    ] = None,
    wording_version: Annotated[str | None, typer.Option(help="Version of the consent text the customers saw.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Consent records from FILE (columns: customer_id, purpose (marketing|personalization|transactional), channel
    (email|sms|push|in_app|whatsapp|web), status (granted|withdrawn), recorded_at (ISO 8601), source,
    wording_version; the customers must exist), or a grant the brand already holds for an imported audience:
    --grant PURPOSE:CHANNEL (repeatable) to --all customers or to the --customers in a file, with its --source.
    A grant never overrides a customer's withdrawal (skipped as consent_withdrawn).
    """
    from copyloom.domain.consents import import_consents

    if file is not None:
        if grant or all_customers or customers_file:
            raise typer.BadParameter("give either FILE or --grant, not both", param_hint="FILE")
        _run(import_consents, file, workspace, as_json)
        return
    if not grant:
        raise typer.BadParameter("give a FILE of consent records, or --grant PURPOSE:CHANNEL", param_hint="--grant")
    if all_customers == (customers_file is not None):
        raise typer.BadParameter("grant to --all customers or to the --customers in a file (one of them)")
    if not source:
        raise typer.BadParameter("say where the consent was collected, e.g. 'checkout 2011'", param_hint="--source")
    _grant(workspace, grant, customers_file, source, wording_version, as_json)


def _grant(
    workspace: str, grant: list[str], customers_file: Path | None, source: str, version: str | None, as_json: bool
) -> None:
    from copyloom.db import write
    from copyloom.domain.consents import grant_consents, parse_grant, workspace_customer_ids
    from copyloom.domain.tabular import read_ids

    pairs = [parse_grant(g) for g in grant]
    started = time.perf_counter()
    with open_db() as (_, factory), write(factory) as session, Phases() as phases:
        resolve_workspace(session, workspace)
        ids = read_ids(customers_file) if customers_file else workspace_customer_ids(session, workspace)
        label = "grant " + " ".join(grant)
        report = grant_consents(
            session,
            workspace,
            pairs,
            phases.counting("grant", label, ids, unit="customers/s"),
            source=source,
            wording_version=version,
        )
    _print_report(label, report, time.perf_counter() - started, as_json)


@import_app.command("events")
@handle_errors
def events(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False) -> None:
    """Events. Columns: customer_id, name, timestamp (ISO 8601), message_id (optional; else a content hash),
    properties (JSON) or properties.<key>. The customers must exist.
    """
    from copyloom.domain.activity import import_events

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


_RETAIL_PHASES = {"read": ("read {file}", "MB/s"), "write": ("write order lines", "rows/s")}


@import_app.command("online-retail")
@handle_errors
def online_retail(file: FileArg, workspace: WorkspaceOpt, as_json: JsonOpt = False, reindex: IndexOpt = True) -> None:
    """The UCI "Online Retail" file (InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
    CustomerID, Country), plain or .gz: cancellations become cancelled orders, rows without CustomerID only
    teach the catalogue, fee codes (POST, M, BANK CHARGES, …) are not products, prices are GBP.
    """
    from copyloom.db import write
    from copyloom.domain.online_retail_store import import_online_retail

    with open_db() as (_, factory), write(factory) as session, Phases() as phases:
        resolve_workspace(session, workspace)

        def update(phase: str, done: int, total: int | None) -> None:
            label, unit = _RETAIL_PHASES.get(phase, (phase, "rows/s"))
            phases.update(phase, label.format(file=file.name), done, total, unit)

        report = import_online_retail(session, workspace, file, update)
    if as_json:
        print_json(report.model_dump() | {"rows_per_second": round(report.rows_per_second)})
    else:
        _print_retail(report)
    if reindex:
        _reindex(workspace)
