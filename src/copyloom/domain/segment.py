"""Segment-compatible ingestion: the messages of a ``POST /v1/batch`` (the Segment HTTP Tracking API format).

- ``identify`` → the customer ``userId`` with its traits: email, phone, name (or firstName + lastName),
  locale/timezone (from traits or the message context), country (``traits.address.country`` or
  ``traits.country``, ISO alpha-2; any other spelling is kept as ``attributes.country_name``), birthday; every
  other trait is merged into ``attributes``.
- ``track`` "Order Completed" → an order (``properties.order_id``, ``products[]`` with ``product_id``/``sku``,
  ``name``, ``price``, ``quantity``; ``currency``; ``total``, else ``revenue``, else the sum of the lines).
- ``track`` "Order Cancelled" / "Order Refunded" → an event (a refund is sensitive context for the consent gate)
  and the order's status becomes cancelled / refunded, so it is never cited as a purchase again. A refund that
  lists only some of the order's products is partial: the order stays completed. A later "Order Completed" for
  the same order (a retry, or messages out of order) does not revive it.
- any other ``track`` → an event named after it; ``page``/``screen`` → "Page Viewed"/"Screen Viewed" events.
  The event's identity is the ``messageId``, so a retried batch stores nothing twice.
- A ``track``/``page``/``screen`` for an unknown ``userId`` creates a minimal customer (Segment does not order
  identify before track across sources; the profile fills in when the identify arrives).
- Anonymous messages (no ``userId``) and ``alias``/``group`` are skipped with a reason: copyloom keeps
  first-party profiles of known customers only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.contracts.enums import OrderStatus
from copyloom.domain.activity import EventIn, OrderIn, record_event, upsert_order
from copyloom.domain.customers import CustomerIn, ensure_customer, upsert_customer
from copyloom.domain.imports import ImportReport, Outcome, describe_validation_error
from copyloom.errors import CopyloomError, InvalidInput
from copyloom.models import Customer, Order

ORDER_COMPLETED = "Order Completed"
ORDER_ENDED = {"Order Cancelled": OrderStatus.CANCELLED, "Order Refunded": OrderStatus.REFUNDED}
_IDENTITY_TRAITS = {"name", "firstName", "lastName", "email", "phone", "locale", "timezone", "address", "country"}
_OTHER_MAPPED = {"birthday", "id", "userId"}


class SegmentReport(ImportReport):
    """An ImportReport over messages, plus how many of each type arrived and how many customers were created."""

    success: bool = True
    by_type: dict[str, int] = Field(default_factory=dict)
    customers_created: int = 0


def _user_id(message: dict[str, Any]) -> str:
    raw = message.get("userId")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise InvalidInput("anonymous messages are not stored: send a userId", code="anonymous_only", field="userId")
    if not isinstance(raw, str | int):
        raise InvalidInput("userId must be a string", field="userId")
    return str(raw).strip()


def _timestamp(message: dict[str, Any]) -> Any:
    return message.get("timestamp") or message.get("originalTimestamp") or datetime.now(UTC)


def _validated(schema: type[BaseModel], payload: dict[str, Any], prefix: str) -> Any:
    try:
        return schema.model_validate(payload)
    except ValidationError as exc:
        reason, field, message = describe_validation_error(exc)
        raise InvalidInput(message, code=reason, field=f"{prefix}.{field}" if field else prefix) from exc


def _customer_payload(message: dict[str, Any]) -> dict[str, Any]:
    traits = message.get("traits") or {}
    context = message.get("context") or {}
    if not isinstance(traits, dict) or not isinstance(context, dict):
        raise InvalidInput("traits and context must be objects", field="traits")
    payload: dict[str, Any] = {}
    name = traits.get("name") or " ".join(str(traits[k]) for k in ("firstName", "lastName") if traits.get(k))
    if name:
        payload["name"] = name
    for trait, field in (("email", "email"), ("phone", "phone")):
        if traits.get(trait):
            payload[field] = traits[trait]
    if traits.get("locale") or context.get("locale"):
        payload["locale"] = traits.get("locale") or context.get("locale")
    if traits.get("timezone") or context.get("timezone"):
        payload["time_zone"] = traits.get("timezone") or context.get("timezone")
    if traits.get("birthday"):
        payload["birth_date"] = str(traits["birthday"])[:10]
    attributes = {k: v for k, v in traits.items() if k not in _IDENTITY_TRAITS | _OTHER_MAPPED}
    address = traits.get("address") if isinstance(traits.get("address"), dict) else {}
    country = (address or {}).get("country") or traits.get("country")
    if isinstance(country, str) and len(country.strip()) == 2:
        payload["country"] = country
    elif country:
        attributes["country_name"] = country
    if attributes:
        payload["attributes"] = attributes
    return payload


def _identify(session: Session, workspace_id: str, message: dict[str, Any]) -> tuple[Outcome, bool]:
    user_id = _user_id(message)
    payload = _customer_payload(message)
    customer, created = ensure_customer(session, workspace_id, user_id)
    if "attributes" in payload:
        payload["attributes"] = dict(customer.attributes or {}) | payload["attributes"]
    data: CustomerIn = _validated(CustomerIn, payload, "traits")
    _, outcome = upsert_customer(session, workspace_id, user_id, data)
    return ("inserted" if created else outcome), created


def _order(message: dict[str, Any], user_id: str) -> dict[str, Any]:
    props = message.get("properties") or {}
    products = props.get("products") or []
    if not isinstance(products, list):
        raise InvalidInput("products must be a list", field="properties.products")
    lines = []
    for item in products:
        if not isinstance(item, dict):
            raise InvalidInput("each product must be an object", field="properties.products")
        line: dict[str, Any] = {"sku": str(item.get("sku") or item.get("product_id") or "")}
        for source, target in (("name", "name"), ("price", "unit_price"), ("quantity", "quantity")):
            if item.get(source) is not None:
                line[target] = item[source]
        lines.append(line)
    order: dict[str, Any] = {
        "id": str(props.get("order_id") or props.get("checkout_id") or ""),
        "customer_id": user_id,
        "placed_at": _timestamp(message),
        "lines": lines,
    }
    if props.get("currency"):
        order["currency"] = props["currency"]
    total = props.get("total", props.get("revenue"))
    if total is not None:
        order["total"] = total
    return order


def _existing_order(session: Session, workspace_id: str, customer: Customer, order_id: object) -> Order | None:
    if order_id is None or not str(order_id).strip():
        return None
    return session.scalars(
        select(Order).where(
            Order.workspace_id == workspace_id, Order.external_id == str(order_id), Order.customer_id == customer.id
        )
    ).first()


def _end_order(session: Session, workspace_id: str, customer: Customer, message: dict[str, Any]) -> None:
    """Cancel or refund the order an "Order Cancelled"/"Order Refunded" names, if it is known."""
    props = message.get("properties") or {}
    order = _existing_order(session, workspace_id, customer, props.get("order_id"))
    if order is None:
        return  # unknown (or another customer's) order: the event alone is kept
    status = ORDER_ENDED[str(message.get("event"))]
    if status is OrderStatus.REFUNDED:
        listed = props.get("products")
        refunded = {str(p.get("sku") or p.get("product_id") or "") for p in listed or [] if isinstance(p, dict)}
        if listed and not {line.sku for line in order.lines} <= refunded:
            return  # a partial refund: the rest was still bought
    if order.status == OrderStatus.COMPLETED:
        order.status = status.value
        session.flush()


def _activity(session: Session, workspace_id: str, message: dict[str, Any]) -> tuple[Outcome, bool]:
    user_id = _user_id(message)
    kind = message["type"]
    customer, created = ensure_customer(session, workspace_id, user_id)
    if kind == "track" and message.get("event") == ORDER_COMPLETED:
        payload = _order(message, user_id)
        known = _existing_order(session, workspace_id, customer, payload["id"])
        if known is not None and known.status != OrderStatus.COMPLETED:
            payload["status"] = known.status  # cancelled or refunded stays so
        data = _validated(OrderIn, payload, "properties")
        return upsert_order(session, workspace_id, data, customer)[1], created
    properties = message.get("properties") or {}
    if kind == "track":
        name = message.get("event")
    else:
        name = "Page Viewed" if kind == "page" else "Screen Viewed"
        properties = {**properties, **{k: message[k] for k in ("name", "category") if message.get(k)}}
    payload = {
        "customer_id": user_id,
        "name": name,
        "properties": properties,
        "timestamp": _timestamp(message),
        "message_id": message.get("messageId"),
    }
    event = _validated(EventIn, {k: v for k, v in payload.items() if v is not None}, "message")
    outcome = record_event(session, workspace_id, event, customer)[1]
    if kind == "track" and name in ORDER_ENDED:
        _end_order(session, workspace_id, customer, message)
    return outcome, created


def ingest_segment_batch(session: Session, workspace_id: str, messages: list[object]) -> SegmentReport:
    """Apply Segment messages in order, each in its own savepoint; bad ones are skipped with reason and field."""
    report = SegmentReport()
    for number, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            report.skip(number, "not_an_object", None, "each message must be a JSON object")
            continue
        kind = message.get("type")
        report.by_type[str(kind)] = report.by_type.get(str(kind), 0) + 1
        if kind not in {"identify", "track", "page", "screen"}:
            report.skip(number, "unsupported_type", "type", f"{kind!r} messages are not stored")
            continue
        try:
            with session.begin_nested():
                handler = _identify if kind == "identify" else _activity
                outcome, created = handler(session, workspace_id, message)
        except CopyloomError as exc:
            report.skip(number, exc.code, exc.field, exc.message)
            continue
        report.count(outcome)
        report.customers_created += created
    return report
