"""Finding things: customers, products and offers, filtered and cursor-paginated like ``GET /v1/drafts``.

Admin and marketer keys may read the lists (a marketer picks the customers and products a draft is for)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from copyloom.api.deps import DbSession, MarketerPrincipal
from copyloom.domain.listings import CustomerPage, OfferPage, ProductPage, list_customers, list_offers, list_products
from copyloom.domain.pages import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/v1", tags=["lists"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page.")]
Search = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get("/customers", summary="Customers, newest first: search by name, email or id, filter, paginate")
def get_customers(
    principal: MarketerPrincipal,
    db: DbSession,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Part of the name, email or id.")] = None,
    locale: Annotated[str | None, Query(max_length=16, description="'zh' also matches 'zh-CN'.")] = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")] = None,
    attribute: Annotated[
        list[str] | None,
        Query(
            max_length=10,
            description="`key` (set) or `key:value` (string value equals); repeat to require several.",
            examples=["loyalty_tier:gold"],
        ),
    ] = None,
    suppressed: Annotated[bool | None, Query(description="Only globally suppressed (or only not).")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> CustomerPage:
    return list_customers(
        db,
        principal.workspace_id,
        q=q,
        locale=locale,
        country=country,
        attributes=attribute,
        suppressed=suppressed,
        limit=limit,
        cursor=cursor,
    )


@router.get("/products", summary="Products, newest first: search by name or sku, filter by category")
def get_products(
    principal: MarketerPrincipal,
    db: DbSession,
    q: Search = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    active: bool | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ProductPage:
    return list_products(db, principal.workspace_id, q=q, category=category, active=active, limit=limit, cursor=cursor)


@router.get("/offers", summary="Approved offers, newest first: search by title, code or id")
def get_offers(
    principal: MarketerPrincipal,
    db: DbSession,
    q: Search = None,
    active: bool | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> OfferPage:
    return list_offers(db, principal.workspace_id, q=q, active=active, limit=limit, cursor=cursor)
