"""Errors with a machine code, a human message and an HTTP status.

Hierarchy::

    CopyloomError (500 internal_error)
    ├── InvalidInput (422 invalid_input)          bad payload; ``field`` names the offending field
    ├── PayloadTooLarge (413 payload_too_large)
    ├── Unauthenticated (401 unauthenticated)     missing, unknown or revoked API key
    ├── Forbidden (403 forbidden)                 the key's role may not do this
    ├── NotFound (404 not_found)                  unknown customer, draft, … (or another workspace's)
    ├── Conflict (409 conflict)                   already reviewed, duplicate, …
    ├── RateLimited (429 rate_limited)            budget or rate limit exhausted
    ├── ModelError (502 model_error)              the language model failed or answered nonsense
    └── ModelTimeout (504 model_timeout)          the language model did not answer in time

Libraries raise these; only the API layer turns them into responses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CopyloomError(Exception):
    """Base of every expected failure. ``code`` is stable and machine-readable; ``message`` is for people."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(CopyloomError):
    status = 422
    default_code = "invalid_input"


class PayloadTooLarge(CopyloomError):
    status = 413
    default_code = "payload_too_large"


class Unauthenticated(CopyloomError):
    status = 401
    default_code = "unauthenticated"


class Forbidden(CopyloomError):
    status = 403
    default_code = "forbidden"


class NotFound(CopyloomError):
    status = 404
    default_code = "not_found"


class Conflict(CopyloomError):
    status = 409
    default_code = "conflict"


class RateLimited(CopyloomError):
    status = 429
    default_code = "rate_limited"


class ModelError(CopyloomError):
    status = 502
    default_code = "model_error"


class ModelTimeout(CopyloomError):
    status = 504
    default_code = "model_timeout"
