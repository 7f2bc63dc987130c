"""Consent records: an append-only history per customer × purpose × channel, and the one rule of what is in force.

The rule (``fold_consents`` + ``status_in_force``, or ``consent_in_force`` on the database) is used by the gate,
retrieval, decisions and outcomes; nothing else decides whether a consent holds:
- per (purpose, channel) the latest record is in force; at the same instant a withdrawal wins;
- a record stamped after the moment asked about is not in force yet, except a withdrawal, which holds as soon as
  it is on file (a clock running behind must not let a message through);
- a channel's own record beats an every-channel record (``*``, ``any``, ``all``: e.g. a preference-centre opt-in);
  there is no fallback to another channel's record;
- personalization also needs the customer not to be globally suppressed (an objection to direct marketing).

Re-sending a record already stored (same customer, purpose, channel, time and status) is "unchanged". A record
sent without ``recorded_at`` is stamped now, unless the record in force already says the same thing (then it is
"unchanged" too), so that re-running a sync without timestamps does not grow the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import Channel, ConsentStatus, Purpose
from copyloom.db import in_chunks
from copyloom.domain.customers import get_customer
from copyloom.domain.fields import ExternalId, Name, UtcDateTime
from copyloom.domain.imports import ImportReport, Outcome, describe_validation_error, import_rows
from copyloom.errors import InvalidInput
from copyloom.models import Consent, Customer, utcnow

# Clocks differ; a record "from the future" beyond this is a mistake, not skew.
MAX_CLOCK_SKEW = timedelta(minutes=10)
# Consent rows recorded for every channel at once (e.g. a personalization opt-in on the preference centre).
ANY_CHANNEL = ("*", "any", "all")
ConsentRecord = tuple[str, str, str, datetime]  # (purpose, channel, status, recorded_at)
ConsentsInForce = Mapping[tuple[str, str], str]  # (purpose, channel) -> status in force


def fold_consents(rows: Iterable[ConsentRecord], at: datetime | None = None) -> dict[tuple[str, str], str]:
    """The status in force per (purpose, channel) at ``at`` (None: everything on file), from ``rows`` in
    ``recorded_at`` order."""
    out: dict[tuple[str, str], str] = {}
    stamped: dict[tuple[str, str], datetime] = {}
    withdrawn = ConsentStatus.WITHDRAWN.value
    for purpose, channel, status, recorded_at in rows:
        key = (purpose, channel)
        if at is not None and _aware(recorded_at) > at and status != withdrawn:
            continue  # not in force yet
        if key in stamped and recorded_at == stamped[key] and out[key] == withdrawn:
            continue  # two records at the same instant: withdrawal wins, the conservative reading
        out[key], stamped[key] = status, recorded_at
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def status_in_force(consents: ConsentsInForce, purpose: str, channel: str) -> str | None:
    """Status in force for purpose × channel: the channel's own record, else an every-channel record."""
    status = consents.get((purpose, channel))
    if status is not None:
        return status
    for wildcard in ANY_CHANNEL:
        status = consents.get((purpose, wildcard))
        if status is not None:
            return status
    return None


def granted(consents: ConsentsInForce, purpose: str, channel: str) -> bool:
    return status_in_force(consents, purpose, channel) == ConsentStatus.GRANTED.value


def personalization_in_force(consents: ConsentsInForce, channel: str, *, suppressed: bool) -> bool:
    """Whether a message on ``channel`` may be written from the customer's personal data."""
    return not suppressed and granted(consents, Purpose.PERSONALIZATION.value, channel)


# Built once (they run on every decision): the customers as an expanding parameter ``pks``.
_RECORDS = (
    select(Consent.customer_id, Consent.purpose, Consent.channel, Consent.status, Consent.recorded_at)
    .where(Consent.customer_id.in_(bindparam("pks", expanding=True)))
    .order_by(Consent.recorded_at, Consent.id)
)


def consents_in_force(db: Session | Connection, customer_pk: int, at: datetime | None) -> dict[tuple[str, str], str]:
    """One indexed scan of the customer's (few) records, folded by the rule: cheaper than a grouped self-join."""
    return consents_in_force_of(db, [customer_pk], at)[customer_pk]


def consents_in_force_of(
    db: Session | Connection, customer_pks: Sequence[int], at: datetime | None
) -> dict[int, dict[tuple[str, str], str]]:
    """``consents_in_force`` for many customers: one query per 900 customers."""
    records: dict[int, list[ConsentRecord]] = {pk: [] for pk in customer_pks}
    for chunk in in_chunks(customer_pks):
        for pk, purpose, channel, status, recorded_at in db.execute(_RECORDS, {"pks": chunk}):
            records[pk].append((purpose, channel, status, recorded_at))
    return {pk: fold_consents(rows, at) for pk, rows in records.items()}


def consent_in_force(db: Session | Connection, customer_pk: int, purpose: str, channel: str, at: datetime) -> bool:
    """Whether the customer's ``purpose`` consent for ``channel`` holds at ``at`` (personalization also needs the
    customer not to be globally suppressed)."""
    consents = consents_in_force(db, customer_pk, at)
    if purpose == Purpose.PERSONALIZATION.value:
        suppressed = bool(db.execute(select(Customer.suppressed).where(Customer.id == customer_pk)).scalar())
        return personalization_in_force(consents, channel, suppressed=suppressed)
    return granted(consents, purpose, channel)


_LOCK_CUSTOMER = select(Customer.id).where(Customer.id == bindparam("pk")).with_for_update()


def lock_customer(db: Session | Connection, customer_pk: int) -> None:
    """Queue behind every other writer of this customer's sends and consents until the transaction ends: a row
    lock on PostgreSQL; on SQLite every write transaction already holds the database's one write lock."""
    db.execute(_LOCK_CUSTOMER, {"pk": customer_pk})


class ConsentIn(BaseModel):
    """One consent decision of one customer for one purpose on one channel."""

    model_config = ConfigDict(extra="forbid")

    customer_id: ExternalId
    purpose: Purpose
    channel: Channel
    status: ConsentStatus
    recorded_at: UtcDateTime | None = Field(default=None, description="When the customer decided; default now.")
    source: Name | None = Field(default=None, description="Where it was collected, e.g. 'checkout', 'sms-reply'.")
    wording_version: Name | None = Field(default=None, max_length=64, description="Version of the consent text.")

    @field_validator("recorded_at")
    @classmethod
    def _not_in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + MAX_CLOCK_SKEW:
            raise ValueError("recorded_at is in the future")
        return value


def latest_consent(session: Session, customer_id: int, purpose: str, channel: str) -> Consent | None:
    return session.scalars(
        select(Consent)
        .where(Consent.customer_id == customer_id, Consent.purpose == purpose, Consent.channel == channel)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(1)
    ).first()


def record_consent(session: Session, workspace_id: str, data: ConsentIn) -> tuple[Consent, Outcome]:
    """Append one consent record (or find the identical one); the customer must exist (NotFound otherwise)."""
    customer = get_customer(session, workspace_id, data.customer_id)
    lock_customer(session, customer.id)  # a withdrawal queues with the sends it must stop
    if data.recorded_at is None:
        current = latest_consent(session, customer.id, data.purpose.value, data.channel.value)
        if (
            current is not None
            and current.status == data.status.value
            and current.source == data.source
            and current.wording_version == data.wording_version
        ):
            return current, "unchanged"
    recorded_at = data.recorded_at or utcnow()
    same = session.scalars(
        select(Consent).where(
            Consent.customer_id == customer.id,
            Consent.purpose == data.purpose.value,
            Consent.channel == data.channel.value,
            Consent.recorded_at == recorded_at,
            Consent.status == data.status.value,
        )
    ).first()
    if same is not None:
        return same, "unchanged"
    row = Consent(
        workspace_id=workspace_id,
        customer_id=customer.id,
        purpose=data.purpose.value,
        channel=data.channel.value,
        status=data.status.value,
        recorded_at=recorded_at,
        source=data.source,
        wording_version=data.wording_version,
    )
    session.add(row)
    session.flush()
    return row, "inserted"


def import_consents(session: Session, workspace_id: str, rows: Iterable[object]) -> ImportReport:
    """Record many consents; rows for unknown customers or with unknown purposes are skipped with the field."""

    def apply(s: Session, record: ConsentIn) -> Outcome:
        return record_consent(s, workspace_id, record)[1]

    return import_rows(session, rows, ConsentIn, apply)


def parse_grant(text: str) -> tuple[Purpose, Channel]:
    """``"marketing:email"`` → (purpose, channel); anything else is InvalidInput naming ``grant``."""
    purpose, _, channel = text.partition(":")
    try:
        return Purpose(purpose.strip()), Channel(channel.strip())
    except ValueError as exc:
        raise InvalidInput(
            f"{text!r}: expected PURPOSE:CHANNEL, purpose one of {', '.join(Purpose)} and channel one of "
            f"{', '.join(Channel)}",
            field="grant",
        ) from exc


def workspace_customer_ids(session: Session, workspace_id: str) -> list[str]:
    """Every customer id (the brand's) of the workspace, in a stable order."""
    query = select(Customer.external_id).where(Customer.workspace_id == workspace_id).order_by(Customer.id)
    return list(session.scalars(query))


GRANT_BATCH = 1000  # customers per bulk insert (times the purpose/channel pairs: the rows of one executemany)


def grant_consents(
    session: Session,
    workspace_id: str,
    grants: Iterable[tuple[Purpose, Channel]],
    customer_ids: Iterable[str],
    *,
    source: str,
    wording_version: str | None = None,
    batch: int = GRANT_BATCH,
) -> ImportReport:
    """Record ``granted`` for each (purpose, channel) and customer, with ``source`` saying where the consent was
    collected (a bulk grant states what the brand already holds; it does not create consent).

    Customers are taken ``batch`` at a time: one query for their rows (locked, as ``record_consent`` locks one),
    one for the records in force, one bulk insert of the new records, all stamped with the same instant. A
    customer whose record in force for that purpose and channel is ``withdrawn`` is skipped (``consent_withdrawn``):
    only the customer can undo a withdrawal, never a bulk grant. A customer whose record in force is already this
    grant (same source and wording) is ``unchanged``, so re-running the same grant changes nothing. Rows of the
    report are numbered customer by customer, pair by pair, from 1."""
    pairs = list(grants)
    if not pairs:
        raise InvalidInput("name at least one PURPOSE:CHANNEL to grant", field="grant")
    if not source.strip():
        raise InvalidInput("say where the consent was collected", field="source")
    template = ConsentIn(customer_id="-", purpose=pairs[0][0], channel=pairs[0][1], status=ConsentStatus.GRANTED,
                         source=source, wording_version=wording_version)  # fmt: skip
    report = ImportReport()
    chunk: list[str] = []
    first_row = 1
    for customer_id in customer_ids:
        chunk.append(customer_id)
        if len(chunk) == batch:
            _grant_batch(session, workspace_id, pairs, chunk, template, first_row, report)
            first_row += len(chunk) * len(pairs)
            chunk = []
    if chunk:
        _grant_batch(session, workspace_id, pairs, chunk, template, first_row, report)
    return report


def _grant_batch(
    session: Session,
    workspace_id: str,
    pairs: list[tuple[Purpose, Channel]],
    customer_ids: list[str],
    template: ConsentIn,
    first_row: int,
    report: ImportReport,
) -> None:
    wanted = {c.strip() for c in customer_ids}
    found = session.execute(
        select(Customer.external_id, Customer.id)
        .where(Customer.workspace_id == workspace_id, Customer.external_id.in_(wanted))
        .order_by(Customer.id)  # one lock order for every writer: no deadlock between two grants
        .with_for_update()
    ).all()
    pk_of = {str(external_id): int(pk) for external_id, pk in found}
    latest = _latest_records(session, list(pk_of.values()), pairs)
    now = utcnow()
    new: list[dict[str, object]] = []
    row = first_row - 1
    for customer_id in customer_ids:
        for purpose, channel in pairs:
            row += 1
            try:
                record = template.model_copy(update={"purpose": purpose, "channel": channel})
                record = ConsentIn.model_validate(record.model_dump() | {"customer_id": customer_id})
            except ValidationError as exc:
                report.skip(row, *describe_validation_error(exc))
                continue
            pk = pk_of.get(record.customer_id)
            if pk is None:
                report.skip(row, "customer_not_found", "customer_id", f"no customer {record.customer_id!r}")
                continue
            key = (pk, purpose.value, channel.value)
            current = latest.get(key)
            if current is not None and current[0] == ConsentStatus.WITHDRAWN.value:
                report.skip(
                    row,
                    "consent_withdrawn",
                    "status",
                    f"customer {record.customer_id!r} withdrew {purpose.value} consent on {channel.value}; a bulk "
                    "grant does not override that",
                )
                continue
            if current == (ConsentStatus.GRANTED.value, record.source, record.wording_version):
                report.count("unchanged")
                continue
            latest[key] = (ConsentStatus.GRANTED.value, record.source, record.wording_version)  # a repeated id
            new.append({"customer_id": pk, "purpose": purpose.value, "channel": channel.value})
            report.count("inserted")
    if new:
        same = {"workspace_id": workspace_id, "status": ConsentStatus.GRANTED.value, "recorded_at": now,
                "source": template.source, "wording_version": template.wording_version, "created_at": now}  # fmt: skip
        session.execute(insert(Consent), [row | same for row in new])


def _latest_records(
    session: Session, customer_pks: list[int], pairs: list[tuple[Purpose, Channel]]
) -> dict[tuple[int, str, str], tuple[str, str | None, str | None]]:
    """(customer pk, purpose, channel) → (status, source, wording) of the latest record: what ``latest_consent``
    returns, for many customers in one query."""
    if not customer_pks:
        return {}
    rows = session.execute(
        select(Consent.customer_id, Consent.purpose, Consent.channel, Consent.status, Consent.source,
               Consent.wording_version)
        .where(
            Consent.customer_id.in_(customer_pks),
            Consent.purpose.in_({p.value for p, _ in pairs}),
            Consent.channel.in_({c.value for _, c in pairs}),
        )
        .order_by(Consent.recorded_at, Consent.id)
    )  # fmt: skip
    return {(pk, purpose, channel): (status, src, wording) for pk, purpose, channel, status, src, wording in rows}
