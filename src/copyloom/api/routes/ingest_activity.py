"""Ingestion of what happens: consents (admin), events and orders (admin or journey keys).

Each endpoint takes one JSON object (single-record semantics: a bad payload is a 422 naming the field, an
unknown customer a 404) or a JSON array / NDJSON batch (bad rows are skipped and reported).
"""

from __future__ import annotations

from fastapi import APIRouter

from copyloom.api.deps import AdminPrincipal, DbSession, JourneyPrincipal
from copyloom.api.routes.ingest_body import Rows
from copyloom.domain.activity import EventIn, OrderIn, import_events, import_orders, record_event, upsert_order
from copyloom.domain.consents import ConsentIn, import_consents, record_consent
from copyloom.domain.imports import ImportReport, validate

router = APIRouter(prefix="/v1", tags=["ingestion"])


def _one_or_many(schema_doc: str) -> dict[str, object]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
                        "description": schema_doc,
                    }
                },
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    }


@router.post(
    "/consents",
    summary="Record consent decisions (append-only history)",
    openapi_extra=_one_or_many("A ConsentIn object, or a list of them."),
)
def post_consents(principal: AdminPrincipal, body: Rows, db: DbSession) -> ImportReport:
    if body.single:
        _, outcome = record_consent(db, principal.workspace_id, validate(ConsentIn, body.rows[0]))
        report = ImportReport()
        report.count(outcome)
        return report
    return import_consents(db, principal.workspace_id, body.rows)


@router.post(
    "/events",
    summary="Record behavioural events (idempotent by message_id or content)",
    openapi_extra=_one_or_many("An EventIn object, or a list of them."),
)
def post_events(principal: JourneyPrincipal, body: Rows, db: DbSession) -> ImportReport:
    if body.single:
        _, outcome = record_event(db, principal.workspace_id, validate(EventIn, body.rows[0]))
        report = ImportReport()
        report.count(outcome)
        return report
    return import_events(db, principal.workspace_id, body.rows)


@router.post(
    "/orders",
    summary="Create or update orders with their lines",
    openapi_extra=_one_or_many("An OrderIn object, or a list of them."),
)
def post_orders(principal: JourneyPrincipal, body: Rows, db: DbSession) -> ImportReport:
    if body.single:
        _, outcome = upsert_order(db, principal.workspace_id, validate(OrderIn, body.rows[0]))
        report = ImportReport()
        report.count(outcome)
        return report
    return import_orders(db, principal.workspace_id, body.rows)
