"""Turning failures into ``{"error": {"code", "message", "field"?}}`` responses; never a 500 for user input."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from copyloom.domain.safe_json import json_error
from copyloom.errors import CopyloomError

log = logging.getLogger("copyloom.api")


class ErrorBody(BaseModel):
    """What went wrong, for programs (``code``) and for people (``message``)."""

    code: str = Field(description="Stable and machine-readable, e.g. `customer_not_found`, `invalid_json`.")
    message: str = Field(description="For people; may change.")
    field: str | None = Field(
        default=None, description="The offending input, e.g. `body.email`, `query.since`, `customer_id`, `body`."
    )
    details: dict[str, Any] | None = Field(
        default=None, description="More, by code: every validation error, the line and column of malformed JSON, …"
    )


class ErrorResponse(BaseModel):
    """Every error of the API, whatever its status."""

    error: ErrorBody


def error_response(status: int, code: str, message: str, field: str | None = None, **details: Any) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


async def _copyloom_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CopyloomError)
    if exc.status >= 500:
        log.warning("api.error", extra={"code": exc.code, "status": exc.status})
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.status)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    malformed = _malformed_json(exc)
    if malformed is not None:
        return await _copyloom_error(_request, malformed)
    errors = [
        {"field": _field_path(e.get("loc", ())), "type": e.get("type"), "message": e.get("msg")} for e in exc.errors()
    ]
    first = errors[0] if errors else {"field": None, "type": None, "message": "invalid request"}
    code = "invalid_json" if first["type"] == "json_invalid" else "invalid_input"
    if first["type"] == "extra_forbidden":
        code = "unknown_field"
    message = f"{first['field']}: {first['message']}" if first["field"] else str(first["message"])
    return error_response(422, code, message, field=first["field"], errors=errors)


def _malformed_json(exc: RequestValidationError) -> CopyloomError | None:
    """FastAPI's own JSON error names a character offset ("body.15"); ours names the line and column. (The edge
    middleware answers malformed JSON bodies first; this keeps FastAPI's error in the same form should one reach
    it.)"""
    first = exc.errors()[0] if exc.errors() else {}
    loc = first.get("loc", ())
    if first.get("type") != "json_invalid" or len(loc) != 2 or not isinstance(loc[1], int):
        return None
    doc = exc.body if isinstance(exc.body, str | bytes) else ""
    reason = str((first.get("ctx") or {}).get("error", "JSON decode error"))
    return json_error(reason, doc, loc[1])


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated", 403: "forbidden"}
    return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("api.unhandled", exc_info=exc)
    return error_response(500, "internal_error", "internal error; the request id is in the X-Request-ID header")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CopyloomError, _copyloom_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
