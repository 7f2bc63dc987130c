"""Ingestion of profiles and catalogue: customers, products, offers, brand kit, knowledge, notes (admin keys).

Single-record PUTs answer 422 with the offending field for a bad payload; batch imports skip bad rows and
report them. Every write is idempotent: re-sending the same data answers ``"outcome": "unchanged"``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Path
from pydantic import BaseModel

from copyloom.api.deps import (
    AdminPrincipal,
    AppServices,
    DbSession,
    MarketerPrincipal,
    forget_cached,
    schedule_reindex,
)
from copyloom.api.openapi import body_schema
from copyloom.api.routes.ingest_body import Rows
from copyloom.contracts.brand import BrandKitSpec
from copyloom.domain.brand import get_brand_kit, save_brand_kit
from copyloom.domain.catalogue import (
    OfferIn,
    OfferRecordIn,
    ProductIn,
    ProductRecordIn,
    import_offers,
    import_products,
    upsert_offer,
    upsert_product,
)
from copyloom.domain.customers import (
    CustomerIn,
    CustomerOut,
    CustomerRecordIn,
    get_customer,
    import_customers,
    upsert_customer,
)
from copyloom.domain.imports import ImportReport, Outcome
from copyloom.domain.texts import KnowledgeIn, NoteIn, NoteRecordIn, import_notes, upsert_knowledge, upsert_note

router = APIRouter(prefix="/v1", tags=["ingestion"])

ExternalIdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\s/][^/\x00-\x1f\x7f]*$")]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^/\s]+$")]


class WriteResult(BaseModel):
    """What a single-record write did."""

    id: str
    outcome: Outcome


class CustomerWriteResult(WriteResult):
    customer: CustomerOut


@router.put("/customers/{customer_id}", summary="Create or update one customer (fields left out are kept)")
def put_customer(
    customer_id: ExternalIdPath, data: CustomerIn, principal: AdminPrincipal, db: DbSession
) -> CustomerWriteResult:
    row, outcome = upsert_customer(db, principal.workspace_id, customer_id, data)
    return CustomerWriteResult(id=customer_id, outcome=outcome, customer=CustomerOut.of(row))


@router.get("/customers/{customer_id}", summary="One customer of this workspace (admin and marketer keys)")
def read_customer(customer_id: ExternalIdPath, principal: MarketerPrincipal, db: DbSession) -> CustomerOut:
    return CustomerOut.of(get_customer(db, principal.workspace_id, customer_id))


@router.post(
    "/customers/import",
    summary="Upsert many customers: a JSON array or NDJSON of objects with `id` and the customer fields",
    openapi_extra=body_schema(CustomerRecordIn),
)
def post_customers_import(principal: AdminPrincipal, body: Rows, db: DbSession) -> ImportReport:
    return import_customers(db, principal.workspace_id, body.rows)


@router.put("/customers/{customer_id}/notes/{note_id}", summary="Create or replace a note about a customer")
def put_note(
    customer_id: ExternalIdPath,
    note_id: ExternalIdPath,
    data: NoteIn,
    principal: AdminPrincipal,
    db: DbSession,
    background: BackgroundTasks,
    services: AppServices,
) -> WriteResult:
    _, outcome = upsert_note(db, principal.workspace_id, customer_id, note_id, data)
    if outcome != "unchanged":
        schedule_reindex(background, services, principal.workspace_id)
    return WriteResult(id=note_id, outcome=outcome)


@router.post(
    "/notes",
    summary="Upsert notes: objects with `id`, `customer_id`, `kind`, `text`",
    openapi_extra=body_schema(NoteRecordIn),
)
def post_notes(
    principal: AdminPrincipal, body: Rows, db: DbSession, background: BackgroundTasks, services: AppServices
) -> ImportReport:
    report = import_notes(db, principal.workspace_id, body.rows)
    if report.inserted or report.updated:
        schedule_reindex(background, services, principal.workspace_id)
    return report


@router.put("/products/{sku}", summary="Create or update one product")
def put_product(
    sku: SkuPath,
    data: ProductIn,
    principal: AdminPrincipal,
    db: DbSession,
    background: BackgroundTasks,
    services: AppServices,
) -> WriteResult:
    _, outcome = upsert_product(db, principal.workspace_id, sku, data)
    if outcome != "unchanged":
        schedule_reindex(background, services, principal.workspace_id)
    return WriteResult(id=sku, outcome=outcome)


@router.post(
    "/products/import",
    summary="Upsert many products: a JSON array or NDJSON of objects with `sku` and the product fields",
    openapi_extra=body_schema(ProductRecordIn),
)
def post_products_import(
    principal: AdminPrincipal, body: Rows, db: DbSession, background: BackgroundTasks, services: AppServices
) -> ImportReport:
    report = import_products(db, principal.workspace_id, body.rows)
    if report.inserted or report.updated:
        schedule_reindex(background, services, principal.workspace_id)
    return report


@router.put("/offers/{offer_id}", summary="Create or update one approved offer")
def put_offer(offer_id: ExternalIdPath, data: OfferIn, principal: AdminPrincipal, db: DbSession) -> WriteResult:
    _, outcome = upsert_offer(db, principal.workspace_id, offer_id, data)
    return WriteResult(id=offer_id, outcome=outcome)


@router.post(
    "/offers/import", summary="Upsert many offers (objects with `id`)", openapi_extra=body_schema(OfferRecordIn)
)
def post_offers_import(principal: AdminPrincipal, body: Rows, db: DbSession) -> ImportReport:
    return import_offers(db, principal.workspace_id, body.rows)


@router.put("/knowledge/{item_id}", summary="Create or replace a brand knowledge item")
def put_knowledge(
    item_id: ExternalIdPath,
    data: KnowledgeIn,
    principal: AdminPrincipal,
    db: DbSession,
    background: BackgroundTasks,
    services: AppServices,
) -> WriteResult:
    _, outcome = upsert_knowledge(db, principal.workspace_id, item_id, data)
    if outcome != "unchanged":
        schedule_reindex(background, services, principal.workspace_id)
    return WriteResult(id=item_id, outcome=outcome)


@router.put("/brand", summary="Replace the brand kit (voice, policies, legal identity)")
def put_brand(
    data: BrandKitSpec, principal: AdminPrincipal, db: DbSession, background: BackgroundTasks, services: AppServices
) -> dict[str, Any]:
    outcome = save_brand_kit(db, principal.workspace_id, data)
    forget_cached(background, services, principal.workspace_id)
    return {"outcome": outcome, "brand": data.model_dump(mode="json")}


@router.get("/brand", summary="The brand kit")
def read_brand(principal: MarketerPrincipal, db: DbSession) -> BrandKitSpec:
    return get_brand_kit(db, principal.workspace_id)
