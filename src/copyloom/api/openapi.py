"""The OpenAPI document as the API really behaves: every error is ``{"error": {"code", "message", "field"}}``,
listed for each status an operation can answer; each operation names the roles that may call it; every request
body has an example; bodies read by hand (one object or a batch, NDJSON) show their schema.

Statuses come from what a route is made of, so a new route is documented without listing them by hand: an
authenticated route answers 401, a role-gated one 403, one with path parameters 404, one with any parameter or
body 422, one with a body 413 and 415; 409/429/502/504 (and other 404s) are declared on the route with
``responses=``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from copyloom.api.deps import ROLE_GATES
from copyloom.api.errors import ErrorResponse
from copyloom.api.examples import NDJSON_EXAMPLES, REQUEST_EXAMPLES
from copyloom.contracts.enums import Role

_REF = "#/components/schemas/{model}"
# Models of bodies a route reads by hand (see ``body_schema``): added to the components.
_DOCUMENTED: dict[str, type[BaseModel]] = {}

ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    401: (
        "No key, or an unknown or revoked one",
        {"code": "missing_key", "message": "send 'Authorization: Bearer <key>'"},
    ),
    403: (
        "The key's role may not call this",
        {"code": "forbidden", "message": "this needs a key with role admin; yours is journey"},
    ),
    404: (
        "Unknown, or another workspace's",
        {"code": "customer_not_found", "message": "no customer 'C9999'", "field": "customer_id"},
    ),
    409: (
        "Conflict: already decided, changed meanwhile, or a key reused",
        {"code": "already_reviewed", "message": "the draft was already reviewed (status approved)"},
    ),
    413: (
        "The body is over the size limit",
        {"code": "payload_too_large", "message": "request bodies are limited to 10485760 bytes"},
    ),
    415: (
        "A `Content-Encoding` other than gzip",
        {
            "code": "unsupported_encoding",
            "message": "send the body plain or gzip-compressed",
            "field": "content-encoding",
        },
    ),
    422: (
        "Invalid input: `field` names it (`body` with the line and column for malformed JSON)",
        {"code": "invalid_input", "message": "body.email: value is not a valid email address", "field": "body.email"},
    ),
    429: (
        "The workspace's daily model budget is spent",
        {"code": "budget_exhausted", "message": "today's token budget of 200000 is spent"},
    ),
    502: ("The language model failed", {"code": "model_error", "message": "the model answered invalid JSON 3 times"}),
    504: ("The language model did not answer in time", {"code": "model_timeout", "message": "no answer within 30 s"}),
}


def body_schema(model: type[BaseModel], *, many: bool = True) -> dict[str, Any]:
    """``openapi_extra`` for a body read by hand: one ``model`` object or a JSON array of them, or NDJSON."""
    _DOCUMENTED[model.__name__] = model
    ref = {"$ref": _REF.format(model=model.__name__)}
    one_or_many = {"oneOf": [ref, {"type": "array", "items": ref}]} if many else ref
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": one_or_many},
                "application/x-ndjson": {"schema": {"type": "string", "description": "One JSON object per line."}},
            },
        }
    }


def api_routes(app: FastAPI) -> Iterator[routing.APIRoute]:
    """Every APIRoute of the app, through included routers."""
    contexts = getattr(routing, "iter_route_contexts", None)
    for entry in contexts(app.routes) if contexts is not None else app.routes:
        route = getattr(entry, "original_route", entry)
        if isinstance(route, routing.APIRoute):
            yield route


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def route_roles(route: routing.APIRoute) -> frozenset[Role] | None:
    """The roles that may call the route; None when it needs no key. Any valid key: every role."""
    gates = [ROLE_GATES[c] for c in _calls(route.dependant) if c in ROLE_GATES]
    if not gates:
        return None
    allowed = frozenset(Role)
    for gate in gates:
        allowed &= gate if gate is not None else frozenset(Role)
    return allowed


def _statuses(route: routing.APIRoute, operation: dict[str, Any], roles: frozenset[Role] | None) -> list[int]:
    statuses = {int(s) for s in operation.get("responses", {}) if s.isdigit() and int(s) in ERRORS}
    if roles is not None:
        statuses.add(401)
        if roles != frozenset(Role):
            statuses.add(403)
    if "{" in route.path_format:
        statuses.add(404)
    has_body = "requestBody" in operation
    if has_body or operation.get("parameters"):
        statuses.add(422)
    if has_body:
        statuses.update((413, 415))
    return sorted(statuses)


def _error_response(status: int, existing: dict[str, Any] | None) -> dict[str, Any]:
    description, example = ERRORS[status]
    kept = (existing or {}).get("description")
    if kept and kept not in ("Validation Error", "Unprocessable Content", "Unprocessable Entity"):
        description = kept
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": _REF.format(model="ErrorResponse")}, "example": {"error": example}}
        },
    }


def _add_models(components: dict[str, Any], models: list[type[BaseModel]]) -> None:
    for model in models:
        schema = model.model_json_schema(ref_template=_REF)
        for name, definition in schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components.setdefault(model.__name__, schema)


def _document(route: routing.APIRoute, method: str, operation: dict[str, Any]) -> None:
    roles = route_roles(route)
    responses = operation.setdefault("responses", {})
    for status in _statuses(route, operation, roles):
        responses[str(status)] = _error_response(status, responses.get(str(status)))
    if roles is not None:
        names = ", ".join(r.value for r in Role if r in roles)
        operation["description"] = (operation.get("description", "") + f"\n\n**Roles:** {names}.").strip()
        scheme = "segment" if route.path_format in ("/v1/batch", "/v1/import") else "bearer"
        operation["security"] = [{scheme: []}] + ([{"bearer": []}] if scheme == "segment" else [])
    content = operation.get("requestBody", {}).get("content", {})
    example = REQUEST_EXAMPLES.get((method, route.path_format))
    if "application/json" in content and example is not None:
        content["application/json"]["example"] = example
    if "application/x-ndjson" in content and route.path_format in NDJSON_EXAMPLES:
        content["application/x-ndjson"]["example"] = NDJSON_EXAMPLES[route.path_format]


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document served at ``/openapi.json`` (built once per app)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    models = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422, which this API never answers
        models.pop(unused, None)
    _add_models(models, [ErrorResponse, *_DOCUMENTED.values()])
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer cl_…`."},
        "segment": {"type": "http", "scheme": "basic", "description": "Segment: the admin key as user name."},
    }
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                _document(route, method, operation)
    app.openapi_schema = schema
    return schema
