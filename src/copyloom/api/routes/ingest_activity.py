"""Ingestion of what happens: consents, events and orders (admin keys: ingestion steers the gates; a journey
key reports outcomes through ``POST /v1/outcomes`` only).

Each endpoint takes one JSON object (single-record semantics: a bad payload is a 422 naming the field, an
unknown customer a 404) or a JSON array / NDJSON batch (bad rows are skipped and reported).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel

from copyloom.api.deps import AdminPrincipal, DbSession
from copyloom.api.openapi import body_schema
from copyloom.api.routes.ingest_body import Rows
from copyloom.domain.activity import EventIn, OrderIn, import_events, import_orders, record_event, upsert_order
from copyloom.domain.consents import ConsentIn, import_consents, record_consent
from copyloom.domain.imports import ImportReport, Outcome, validate

router = APIRouter(prefix="/v1", tags=["ingestion"])
_UNKNOWN_CUSTOMER: dict[int | str, dict[str, Any]] = {404: {"description": "One object for an unknown customer"}}
M = TypeVar("M", bound=BaseModel)


def _single_or_batch(
    body: Rows,
    schema: type[M],
    one: Callable[[M], tuple[object, Outcome]],
    many: Callable[[list[object]], ImportReport],
) -> ImportReport:
    """One object: validated strictly (422 or 404 on error). A batch: bad rows are skipped and reported."""
    if not body.single:
        return many(body.rows)
    report = ImportReport()
    report.count(one(validate(schema, body.rows[0]))[1])
    return report


@router.post(
    "/consents",
    summary="Record consent decisions (append-only history)",
    openapi_extra=body_schema(ConsentIn),
    responses=_UNKNOWN_CUSTOMER,
)
def post_consents(principal: AdminPrincipal, body: Rows, db: DbSession) -> ImportReport:
    ws = principal.workspace_id
    return _single_or_batch(
        body, ConsentIn, lambda r: record_consent(db, ws, r), lambda rows: import_consents(db, ws, rows)
    )


@router.post(
    "/events",
    summary="Record behavioural events (idempotent by message_id or content)",
    openapi_extra=body_schema(EventIn),
    responses=_UNKNOWN_CUSTOMER,
)
def post_events(principal: AdminPrincipal, body: Rows, db: DbSession) -> ImportReport:
    ws = principal.workspace_id
    return _single_or_batch(body, EventIn, lambda r: record_event(db, ws, r), lambda rows: import_events(db, ws, rows))


@router.post(
    "/orders",
    summary="Create or update orders with their lines",
    openapi_extra=body_schema(OrderIn),
    responses=_UNKNOWN_CUSTOMER,
)
def post_orders(principal: AdminPrincipal, body: Rows, db: DbSession) -> ImportReport:
    ws = principal.workspace_id
    return _single_or_batch(body, OrderIn, lambda r: upsert_order(db, ws, r), lambda rows: import_orders(db, ws, rows))
