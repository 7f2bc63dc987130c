"""Segment-compatible ``POST /v1/batch`` (and the older ``/v1/import`` alias).

Segment's libraries authenticate with HTTP Basic auth: the write key as user name and an empty password
(``Authorization: Basic base64("<key>:")``); a Bearer key works too. The write key is a copyloom API key of role
``admin``: an ``identify`` rewrites a customer's email, phone, birth date and time zone, which steer the minors and
quiet-hours gates, so it is ingestion like every other (a journey key reports outcomes only). Bodies may be
gzip-compressed (``Content-Encoding: gzip``, which ``analytics.Client(gzip=True)`` sends): the API's edge inflates
them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from copyloom.api.deps import ROLE_GATES, AppServices, DbSession
from copyloom.contracts.enums import Role
from copyloom.db import read
from copyloom.domain import safe_json
from copyloom.domain.segment import SegmentReport, ingest_segment_batch
from copyloom.domain.workspaces import Principal, authenticate
from copyloom.errors import Forbidden, InvalidInput, Unauthenticated

router = APIRouter(prefix="/v1", tags=["segment"])
WRITE_ROLES = frozenset({Role.ADMIN})


def _write_key(request: Request) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            user, _, _ = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Unauthenticated("malformed Basic credentials", code="missing_key") from exc
        if user:
            return user
    raise Unauthenticated("send the write key as Basic auth user name (Segment) or a Bearer key", code="missing_key")


def segment_principal(request: Request, services: AppServices) -> Principal:
    key = _write_key(request)
    with read(services.session_factory) as session:
        principal = authenticate(session, key)
    if principal.role not in WRITE_ROLES:
        raise Forbidden(f"a Segment write key must have role admin; yours is {principal.role.value}")
    return principal


ROLE_GATES[segment_principal] = WRITE_ROLES
SegmentPrincipal = Annotated[Principal, Depends(segment_principal)]


async def read_batch(request: Request) -> list[object]:
    # Inflated (gzip) and checked for depth and strictness at the edge (InputEdgeMiddleware) already.
    payload: Any = safe_json.loads(await request.body())
    if not isinstance(payload, dict) or not isinstance(payload.get("batch"), list):
        raise InvalidInput('expected {"batch": [messages]}', field="batch")
    shared_context = payload.get("context") if isinstance(payload.get("context"), dict) else {}
    messages: list[object] = []
    for message in payload["batch"]:
        if isinstance(message, dict) and shared_context:
            message = {**message, "context": {**shared_context, **(message.get("context") or {})}}
        messages.append(message)
    return messages


Batch = Annotated[list[object], Depends(read_batch)]
_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["identify", "track", "page", "screen"]},
        "userId": {"type": "string", "description": "The customer's id; anonymous messages are skipped."},
        "event": {"type": "string", "description": 'track: e.g. "Order Completed", "Product Viewed".'},
        "traits": {"type": "object", "description": "identify: name, email, phone, timezone, address, …"},
        "properties": {"type": "object"},
        "timestamp": {"type": "string", "format": "date-time"},
        "messageId": {"type": "string", "description": "Re-sending a message id is a no-op."},
        "context": {"type": "object"},
    },
}
_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["batch"],
                    "properties": {"batch": {"type": "array", "items": _MESSAGE}, "context": {"type": "object"}},
                }
            }
        },
    }
}


@router.post("/batch", summary="Segment HTTP Tracking API batch: identify, track, page, screen", openapi_extra=_DOC)
def post_batch(principal: SegmentPrincipal, messages: Batch, db: DbSession) -> SegmentReport:
    return ingest_segment_batch(db, principal.workspace_id, messages)


@router.post("/import", summary="Alias of /v1/batch used by older Segment libraries", openapi_extra=_DOC)
def post_import(principal: SegmentPrincipal, messages: Batch, db: DbSession) -> SegmentReport:
    return ingest_segment_batch(db, principal.workspace_id, messages)
