"""Customer profiles: input schema, idempotent upsert and batch import.

PUT semantics are "merge what was sent": a field left out keeps its stored value (so a CSV with only some
columns, or a Segment identify with a few traits, never erases the rest); ``null`` clears an optional field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import Connection, Row, bindparam, select
from sqlalchemy.orm import Session

from copyloom.db import in_chunks
from copyloom.domain.fields import Country, ExternalId, Locale, Name, ShortText, TimeZone, normalize_phone
from copyloom.domain.imports import ImportReport, Outcome, import_rows, upsert_row
from copyloom.errors import NotFound
from copyloom.models import Customer

MAX_ATTRIBUTES_BYTES = 16_384


def _check_attributes(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, ensure_ascii=False, default=str)) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"attributes are limited to {MAX_ATTRIBUTES_BYTES} bytes of JSON")
    return value


Attributes = Annotated[dict[str, Any], Field(max_length=100), AfterValidator(_check_attributes)]


class CustomerIn(BaseModel):
    """A customer as the brand sends it (``PUT /v1/customers/{id}``); the id comes from the path."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    email: EmailStr | None = Field(default=None, max_length=320)
    # Declared before phone: the phone validator reads it to parse national numbers.
    country: Country | None = Field(default=None, description="ISO 3166-1 alpha-2, e.g. 'GB'.")
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = Field(
        default=None, description="Any common format; stored as E.164, read in the customer's country if no +prefix."
    )
    locale: Locale | None = Field(default=None, description="BCP 47 tag such as 'en' or 'zh-CN'.")
    time_zone: TimeZone | None = Field(default=None, description="IANA zone such as 'Asia/Shanghai'.")
    birth_date: date | None = None
    attributes: Attributes | None = Field(default=None, description="Loyalty tier, interests, … (replaces the old).")
    suppressed: bool | None = Field(default=None, description="Global marketing suppression (an objection).")
    suppressed_reason: ShortText | None = None

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None, info: ValidationInfo) -> str | None:
        return normalize_phone(value, info.data.get("country")) if value else None

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth_date(cls, value: date | None) -> date | None:
        if value is not None and not date(1900, 1, 1) <= value <= date.today():
            raise ValueError("birth_date must be between 1900-01-01 and today")
        return value


class CustomerRecordIn(CustomerIn):
    """A customer in a batch import: the same fields plus its external ``id``."""

    id: ExternalId


class CustomerOut(BaseModel):
    """A stored customer as the API returns it."""

    id: str
    name: str | None
    email: str | None
    phone: str | None
    locale: str
    time_zone: str
    country: str | None
    birth_date: date | None
    attributes: dict[str, Any]
    suppressed: bool
    suppressed_reason: str | None

    @classmethod
    def of(cls, row: Customer) -> CustomerOut:
        return cls(
            id=row.external_id,
            name=row.name,
            email=row.email,
            phone=row.phone,
            locale=row.locale,
            time_zone=row.time_zone,
            country=row.country,
            birth_date=row.birth_date,
            attributes=row.attributes,
            suppressed=row.suppressed,
            suppressed_reason=row.suppressed_reason,
        )


# The one lookup of a customer by the brand's id, scoped to the workspace. Statements are built once (they run on
# every draft, decision and gate read) with the bind parameters ``ws`` and ``ext``.
BY_EXTERNAL_ID = (Customer.workspace_id == bindparam("ws"), Customer.external_id == bindparam("ext"))
_CUSTOMER = select(Customer).where(*BY_EXTERNAL_ID)
# The columns the consent gate needs: hot paths load these instead of the whole ORM object.
GATE_COLUMNS = (
    Customer.id,
    Customer.workspace_id,
    Customer.external_id,
    Customer.suppressed,
    Customer.suppressed_reason,
    Customer.birth_date,
    Customer.attributes,
    Customer.time_zone,
    Customer.country,
)
GATE_CUSTOMER = select(*GATE_COLUMNS).where(*BY_EXTERNAL_ID)
_CUSTOMER_PK = select(Customer.id).where(*BY_EXTERNAL_ID)


def find_customer(session: Session, workspace_id: str, external_id: str) -> Customer | None:
    """The workspace's customer with this external id, or None."""
    return session.scalars(_CUSTOMER, {"ws": workspace_id, "ext": external_id}).first()


def find_gate_customer(db: Session | Connection, workspace_id: str, external_id: str) -> Row[Any] | None:
    """The workspace's customer with this external id, as a row of ``GATE_COLUMNS`` (no ORM object), or None."""
    return db.execute(GATE_CUSTOMER, {"ws": workspace_id, "ext": external_id}).first()


def find_customer_pk(db: Session | Connection, workspace_id: str, external_id: str) -> int | None:
    """The primary key of the workspace's customer with this external id, or None (no row is loaded)."""
    return db.scalar(_CUSTOMER_PK, {"ws": workspace_id, "ext": external_id})


def find_customer_pks(db: Session | Connection, workspace_id: str, external_ids: Sequence[str]) -> dict[str, int]:
    """external id -> primary key for the workspace's customers among ``external_ids`` (unknown ones are absent)."""
    found: dict[str, int] = {}
    for chunk in in_chunks(external_ids):
        rows = db.execute(
            select(Customer.external_id, Customer.id).where(
                Customer.workspace_id == workspace_id, Customer.external_id.in_(chunk)
            )
        )
        found |= dict(rows.tuples().all())
    return found


def get_customer(session: Session, workspace_id: str, external_id: str) -> Customer:
    """The workspace's customer with this external id; another workspace's customer is NotFound too."""
    row = find_customer(session, workspace_id, external_id)
    if row is None:
        raise unknown_customer(external_id)
    return row


def unknown_customer(external_id: str) -> NotFound:
    """The 404 of a customer id the workspace does not know."""
    return NotFound(f"no customer {external_id!r}", code="customer_not_found", field="customer_id")


def ensure_customer(session: Session, workspace_id: str, external_id: str) -> tuple[Customer, bool]:
    """The customer, created with defaults when unknown (events may arrive before the profile); (row, created)."""
    row = find_customer(session, workspace_id, external_id)
    if row is not None:
        return row, False
    row = Customer(workspace_id=workspace_id, external_id=external_id, attributes={})
    session.add(row)
    session.flush()
    return row, True


def upsert_customer(
    session: Session, workspace_id: str, external_id: str, data: CustomerIn
) -> tuple[Customer, Outcome]:
    """Create or update one customer from the fields that were sent; re-sending the same data is "unchanged"."""
    values = data.model_dump(include=data.model_fields_set - {"id"})
    for required_default in ("locale", "time_zone"):
        if required_default in values and values[required_default] is None:
            del values[required_default]  # non-nullable columns: null means "leave as is"
    if "suppressed" in values and values["suppressed"] is None:
        values["suppressed"] = False
    if "attributes" in values and values["attributes"] is None:
        values["attributes"] = {}
    new_row = Customer(
        workspace_id=workspace_id,
        external_id=external_id,
        attributes={},
        locale="en",
        time_zone="UTC",
        suppressed=False,
    )
    return upsert_row(session, find_customer(session, workspace_id, external_id), new_row, values)


def import_customers(session: Session, workspace_id: str, rows: Iterable[object]) -> ImportReport:
    """Upsert many customers; each row is a dict with ``id`` and CustomerIn fields. Bad rows are skipped."""

    def apply(s: Session, record: CustomerRecordIn) -> Outcome:
        return upsert_customer(s, workspace_id, record.id, record)[1]

    return import_rows(session, rows, CustomerRecordIn, apply)


def customers_by_external_id(session: Session, workspace_id: str, external_ids: Sequence[str]) -> dict[str, Customer]:
    """external id -> the workspace's customer, for many at once (unknown ones are absent; one query per 900)."""
    found: dict[str, Customer] = {}
    for chunk in in_chunks(external_ids):
        query = select(Customer).where(Customer.workspace_id == workspace_id, Customer.external_id.in_(chunk))
        found |= {c.external_id: c for c in session.scalars(query)}
    return found
