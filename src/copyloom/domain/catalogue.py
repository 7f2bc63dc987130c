"""The catalogue and approved offers: schemas, idempotent upserts and batch imports.

As for customers, a field left out of a PUT keeps its stored value; a new row takes the defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.db import in_chunks
from copyloom.domain.fields import Currency, ExternalId, LongText, Money, Name, Sku, Title, Url, UtcDateTime
from copyloom.domain.imports import ImportReport, Outcome, import_rows, upsert_row
from copyloom.models import Offer, Product


class ProductIn(BaseModel):
    """A catalogue product (``PUT /v1/products/{sku}``); the sku comes from the path."""

    model_config = ConfigDict(extra="forbid")

    name: Title
    category: Name | None = None
    price: Money | None = Field(default=None, description="Unit price, >= 0, two decimals.")
    currency: Currency = "USD"
    description: LongText | None = None
    url: Url | None = None
    active: bool = True


class ProductRecordIn(ProductIn):
    """A product in a batch import: the same fields plus its ``sku``."""

    sku: Sku


class OfferIn(BaseModel):
    """An approved offer (``PUT /v1/offers/{id}``): the only discounts and codes a draft may name."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    description: LongText | None = None
    discount_type: Literal["percent", "amount", "free_shipping"] = "percent"
    discount_value: Money | None = None
    currency: Currency | None = None
    code: Sku | None = Field(default=None, description="Promo code, if any.")
    valid_from: UtcDateTime | None = None
    valid_to: UtcDateTime | None = None
    eligible_skus: list[Sku] = Field(default_factory=list, max_length=5000)
    eligible_categories: list[Name] = Field(default_factory=list, max_length=500)
    eligibility: dict[str, list[str]] = Field(
        default_factory=dict, max_length=20, description='Who may get it, e.g. {"loyalty_tier": ["gold"]}.'
    )
    active: bool = True

    @field_validator("discount_value")
    @classmethod
    def _percent_at_most_100(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if info.data.get("discount_type") == "percent" and value is not None and value > 100:
            raise ValueError("a percent discount cannot exceed 100")
        return value

    @field_validator("valid_to")
    @classmethod
    def _ends_after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("valid_from")
        if value is not None and start is not None and value <= start:
            raise ValueError("valid_to must be after valid_from")
        return value

    @field_validator("currency", mode="after")
    @classmethod
    def _amount_needs_currency(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("discount_type") == "amount" and value is None:
            raise ValueError("an amount discount needs a currency")
        return value

    @model_validator(mode="after")
    def _amount_needs_value(self) -> OfferIn:
        if self.discount_type == "amount" and (self.discount_value is None or self.currency is None):
            # Reached when the fields were left out (validators of absent fields do not run).
            raise ValueError("an amount discount needs discount_value and currency")
        return self


class OfferRecordIn(OfferIn):
    """An offer in a batch import: the same fields plus its external ``id``."""

    id: ExternalId


def sellable_products(
    session: Session, workspace_id: str, skus: Iterable[str], seen: dict[str, Product | None] | None = None
) -> dict[str, Product]:
    """The products of ``skus`` a message may offer (active, with a price), by sku. ``seen`` memoizes the lookups
    of one read transaction (the bundles of a batch of customers, which name the same products again and again):
    only skus not looked up before are read, and what was read, found or not, is added to it."""
    seen = {} if seen is None else seen
    wanted = set(skus)
    missing = sorted(s for s in wanted if s not in seen)
    for chunk in in_chunks(missing):
        rows = session.scalars(
            select(Product).where(
                Product.workspace_id == workspace_id,
                Product.sku.in_(chunk),
                Product.active.is_(True),
                Product.price.is_not(None),
            )
        )
        found = {p.sku: p for p in rows}
        seen.update({s: found.get(s) for s in chunk})
    return {s: p for s in wanted if (p := seen[s]) is not None}


def find_product(session: Session, workspace_id: str, sku: str) -> Product | None:
    return session.scalars(select(Product).where(Product.workspace_id == workspace_id, Product.sku == sku)).first()


def upsert_product(session: Session, workspace_id: str, sku: str, data: ProductIn) -> tuple[Product, Outcome]:
    """Create or update one product; identical data is "unchanged"."""
    existing = find_product(session, workspace_id, sku)
    fields = data.model_fields_set if existing is not None else set(ProductIn.model_fields)
    values = data.model_dump(include=(fields | {"name"}) - {"sku"})
    return upsert_row(session, existing, Product(workspace_id=workspace_id, sku=sku), values)


def import_products(session: Session, workspace_id: str, rows: Iterable[object]) -> ImportReport:
    """Upsert many products (dicts with ``sku`` and ProductIn fields); bad rows are skipped with their reason."""

    def apply(s: Session, record: ProductRecordIn) -> Outcome:
        return upsert_product(s, workspace_id, record.sku, record)[1]

    return import_rows(session, rows, ProductRecordIn, apply)


def find_offer(session: Session, workspace_id: str, external_id: str) -> Offer | None:
    return session.scalars(
        select(Offer).where(Offer.workspace_id == workspace_id, Offer.external_id == external_id)
    ).first()


def upsert_offer(session: Session, workspace_id: str, external_id: str, data: OfferIn) -> tuple[Offer, Outcome]:
    """Create or update one offer; identical data is "unchanged"."""
    existing = find_offer(session, workspace_id, external_id)
    fields = data.model_fields_set if existing is not None else set(OfferIn.model_fields)
    values = data.model_dump(include=(fields | {"title"}) - {"id"})
    if values.get("discount_value") is not None:
        values["discount_value"] = Decimal(values["discount_value"])
    return upsert_row(session, existing, Offer(workspace_id=workspace_id, external_id=external_id), values)


def import_offers(session: Session, workspace_id: str, rows: Iterable[object]) -> ImportReport:
    """Upsert many offers (dicts with ``id`` and OfferIn fields); bad rows are skipped with their reason."""

    def apply(s: Session, record: OfferRecordIn) -> Outcome:
        return upsert_offer(s, workspace_id, record.id, record)[1]

    return import_rows(session, rows, OfferRecordIn, apply)
