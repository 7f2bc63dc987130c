"""What every import shares: the report, per-row savepoints, and turning validation errors into skip reasons.

A batch never stops at a bad row: the row is skipped with a machine reason and the offending field, and because
each row is applied inside its own SAVEPOINT, a row that fails half-way leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from copyloom.errors import CopyloomError, InvalidInput

Outcome = Literal["inserted", "updated", "unchanged"]
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# Rows listed one by one in a report; past this only the count grows (a 500k-row file must not build a huge body).
MAX_LISTED_SKIPS = 1000


class SkippedRow(BaseModel):
    """One row that was not imported, and why."""

    row: int = Field(description="1-based position of the row in the batch (the first data row is 1).")
    reason: str = Field(description="Machine code, e.g. invalid_input, unknown_field, unknown_customer.")
    field: str | None = Field(default=None, description="The offending field, dotted for nested ones.")
    message: str = ""


class ImportReport(BaseModel):
    """Counts of what a batch did. Re-sending the same batch reports everything as unchanged."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_count: int = 0
    skipped: list[SkippedRow] = Field(default_factory=list)

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.skipped_count

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def skip(self, row: int, reason: str, field: str | None = None, message: str = "") -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_LISTED_SKIPS:
            self.skipped.append(SkippedRow(row=row, reason=reason, field=field, message=message[:500]))

    def merge(self, other: ImportReport) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        for s in other.skipped:
            self.skip(s.row, s.reason, s.field, s.message)
        self.skipped_count += other.skipped_count - len(other.skipped)


@dataclass(frozen=True)
class BadRow:
    """A row that could not even be parsed (a broken NDJSON line); imports report it as skipped."""

    reason: str
    message: str


def describe_validation_error(exc: ValidationError) -> tuple[str, str | None, str]:
    """(reason code, dotted field, message) of the first error, in the same vocabulary as the API's 422s."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or None
    kind = first.get("type", "")
    reason = {"extra_forbidden": "unknown_field", "json_invalid": "invalid_json", "missing": "missing_field"}.get(
        kind, "invalid_input"
    )
    return reason, field, f"{field}: {first.get('msg')}" if field else str(first.get("msg"))


def validate(schema: type[M], payload: object) -> M:
    """Validate one record for a single-record endpoint: a bad one raises InvalidInput naming the first field,
    with every problem in ``details.errors`` and every missing field in the message, so that one round trip
    shows all that is wrong (not one missing field per 422)."""
    try:
        return schema.model_validate(payload)
    except ValidationError as exc:
        reason, field, message = describe_validation_error(exc)
        code = "invalid_input" if reason == "missing_field" else reason
        errors = [
            {"field": ".".join(str(p) for p in e.get("loc", ())) or None, "type": e.get("type"), "message": e["msg"]}
            for e in exc.errors()
        ]
        if len(errors) > 1:
            missing = [str(e["field"]) for e in errors if e["type"] == "missing"]
            parts = [f"missing fields: {', '.join(missing)}"] if missing else []
            parts += [f"{e['field']}: {e['message']}" for e in errors if e["type"] != "missing"]
            message = "; ".join(parts)
        raise InvalidInput(message, code=code, field=field, details={"errors": errors}) from exc


def import_rows(
    session: Session,
    rows: Iterable[object],
    schema: type[M],
    apply: Callable[[Session, M], Outcome],
    report: ImportReport | None = None,
) -> ImportReport:
    """Validate each row with ``schema`` and ``apply`` it inside its own savepoint; bad rows are skipped."""
    report = report or ImportReport()
    for number, raw in enumerate(rows, start=1):
        if isinstance(raw, BadRow):
            report.skip(number, raw.reason, None, raw.message)
            continue
        if not isinstance(raw, dict):
            report.skip(number, "not_an_object", None, "each row must be a JSON object")
            continue
        try:
            record = schema.model_validate(raw)
        except ValidationError as exc:
            report.skip(number, *describe_validation_error(exc))
            continue
        try:
            with session.begin_nested():
                outcome = apply(session, record)
        except CopyloomError as exc:
            report.skip(number, exc.code, exc.field, exc.message)
            continue
        except IntegrityError as exc:
            report.skip(number, "conflict", None, str(exc.orig)[:300])
            continue
        report.count(outcome)
    return report


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted (the store keeps UTC). A time whose UTC form
    falls outside years 1-9999 (``9999-12-31T23:59:59-14:00``) is a ValueError, which pydantic reports on the
    field."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the time is outside years 1-9999 once converted to UTC") from exc


def money(value: Decimal) -> Decimal:
    """Two decimals, as stored; comparing unrounded input with stored values would report false updates."""
    return value.quantize(Decimal("0.01"))


def upsert_row(session: Session, existing: T | None, new_row: T, values: dict[str, Any]) -> tuple[T, Outcome]:
    """Insert ``new_row`` with ``values``, or update ``existing`` with them: "inserted", "updated" or
    "unchanged" (identical data writes nothing)."""
    if existing is None:
        assign_changes(new_row, values)
        session.add(new_row)
        session.flush()
        return new_row, "inserted"
    changed = assign_changes(existing, values)
    if changed:
        session.flush()
    return existing, "updated" if changed else "unchanged"


def assign_changes(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True when anything changed (the basis of updated vs unchanged)."""
    changed = False
    for name, value in values.items():
        current = getattr(row, name)
        if isinstance(current, datetime) and isinstance(value, datetime):
            same = as_utc(current) == as_utc(value)
        else:
            same = current == value
        if not same:
            setattr(row, name, value)
            changed = True
    return changed
