"""The lists of the API: customers, products, offers and campaigns, filtered, newest first, one cursor page at
a time (``domain.pages``, the same pagination as the drafts list)."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import CampaignStatus
from copyloom.domain.customers import CustomerOut
from copyloom.domain.pages import Page, keyset_page
from copyloom.errors import InvalidInput
from copyloom.models import Campaign, Customer, Offer, Product

_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class ProductOut(BaseModel):
    """A catalogue product as the API returns it."""

    sku: str
    name: str
    category: str | None
    price: Decimal | None
    currency: str
    description: str | None
    url: str | None
    active: bool

    @classmethod
    def of(cls, row: Product) -> ProductOut:
        return cls.model_validate(row, from_attributes=True)


class OfferOut(BaseModel):
    """An approved offer as the API returns it."""

    id: str
    title: str
    description: str | None
    discount_type: str
    discount_value: Decimal | None
    currency: str | None
    code: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    eligible_skus: list[str]
    eligible_categories: list[str]
    eligibility: dict[str, Any]
    active: bool

    @classmethod
    def of(cls, row: Offer) -> OfferOut:
        values = {name: getattr(row, name) for name in cls.model_fields if name != "id"}
        return cls(id=row.external_id, **values)


class CampaignSummary(BaseModel):
    """A campaign in the list; ``GET /v1/campaigns/{id}`` adds its progress."""

    id: str
    name: str
    status: str
    channels: list[str]
    variants: int
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Campaign) -> CampaignSummary:
        return cls.model_validate(row, from_attributes=True)


class CustomerPage(Page[CustomerOut]):
    """A page of customers."""


class ProductPage(Page[ProductOut]):
    """A page of products."""


class OfferPage(Page[OfferOut]):
    """A page of offers."""


class CampaignPage(Page[CampaignSummary]):
    """A page of campaigns."""


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match; ``%`` and ``_`` in the text match themselves."""
    return func.lower(column).contains(text.lower(), autoescape=True)


def attribute_filter(spec: str) -> ColumnElement[bool]:
    """``key`` (the attribute is set) or ``key:value`` (its string value equals ``value``)."""
    key, colon, value = spec.partition(":")
    if not _ATTRIBUTE_KEY.match(key):
        raise InvalidInput(
            "attribute filters are 'key' or 'key:value'; keys are letters, digits, '_', '.', '-'",
            code="invalid_filter",
            field="attribute",
        )
    stored = Customer.attributes[key].as_string()
    matches: ColumnElement[bool] = stored == value if colon else stored.is_not(None)
    return matches


def list_customers(
    session: Session,
    workspace_id: str,
    *,
    q: str | None = None,
    locale: str | None = None,
    country: str | None = None,
    attributes: list[str] | None = None,
    suppressed: bool | None = None,
    limit: int,
    cursor: str | None = None,
) -> CustomerPage:
    """Customers newest first. ``q`` searches name, email and id; ``locale`` "zh" also matches "zh-CN"."""
    query = select(Customer).where(Customer.workspace_id == workspace_id)
    if q:
        query = query.where(
            or_(_contains(Customer.name, q), _contains(Customer.email, q), _contains(Customer.external_id, q))
        )
    if locale:
        query = query.where(or_(Customer.locale == locale, Customer.locale.startswith(f"{locale}-", autoescape=True)))
    if country:
        query = query.where(Customer.country == country.strip().upper())
    for spec in attributes or []:
        query = query.where(attribute_filter(spec))
    if suppressed is not None:
        query = query.where(Customer.suppressed.is_(True) if suppressed else Customer.suppressed.is_not(True))
    rows, next_cursor = keyset_page(session, query, Customer, limit=limit, cursor=cursor)
    return CustomerPage(items=[CustomerOut.of(r) for r in rows], next_cursor=next_cursor)


def list_products(
    session: Session,
    workspace_id: str,
    *,
    q: str | None = None,
    category: str | None = None,
    active: bool | None = None,
    limit: int,
    cursor: str | None = None,
) -> ProductPage:
    """Products newest first; ``q`` searches name and sku."""
    query = select(Product).where(Product.workspace_id == workspace_id)
    if q:
        query = query.where(or_(_contains(Product.name, q), _contains(Product.sku, q)))
    if category:
        query = query.where(func.lower(Product.category) == category.lower())
    if active is not None:
        query = query.where(Product.active.is_(active))
    rows, next_cursor = keyset_page(session, query, Product, limit=limit, cursor=cursor)
    return ProductPage(items=[ProductOut.of(r) for r in rows], next_cursor=next_cursor)


def list_offers(
    session: Session,
    workspace_id: str,
    *,
    q: str | None = None,
    active: bool | None = None,
    limit: int,
    cursor: str | None = None,
) -> OfferPage:
    """Offers newest first; ``q`` searches title, code and id. ``active`` is the stored switch, not the dates."""
    query = select(Offer).where(Offer.workspace_id == workspace_id)
    if q:
        query = query.where(or_(_contains(Offer.title, q), _contains(Offer.code, q), _contains(Offer.external_id, q)))
    if active is not None:
        query = query.where(Offer.active.is_(active))
    rows, next_cursor = keyset_page(session, query, Offer, limit=limit, cursor=cursor)
    return OfferPage(items=[OfferOut.of(r) for r in rows], next_cursor=next_cursor)


def list_campaigns(
    session: Session,
    workspace_id: str,
    *,
    status: CampaignStatus | None = None,
    q: str | None = None,
    limit: int,
    cursor: str | None = None,
) -> CampaignPage:
    """Campaigns newest first; ``q`` searches the name."""
    query = select(Campaign).where(Campaign.workspace_id == workspace_id)
    if status is not None:
        query = query.where(Campaign.status == status)
    if q:
        query = query.where(_contains(Campaign.name, q))
    rows, next_cursor = keyset_page(session, query, Campaign, limit=limit, cursor=cursor)
    return CampaignPage(items=[CampaignSummary.of(r) for r in rows], next_cursor=next_cursor)
