"""Signing in to the reviewer pages: the key lives in an HttpOnly, SameSite=Strict cookie; forms carry a CSRF token.

The CSRF token is an HMAC of the signed-in key, so it needs no server-side state and cannot be guessed without
the key. The sign-in form itself is protected by a double-submit cookie (against signing a victim in to an
attacker's workspace).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from copyloom.api.services import Services
from copyloom.domain.enums import Role
from copyloom.domain.workspaces import Principal, authenticate
from copyloom.errors import Forbidden, Unauthenticated

COOKIE = "copyloom_ui"
SIGNIN_COOKIE = "copyloom_ui_signin"
UI_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})
MAX_AGE_S = 12 * 3600
# Scripts and styles only from our own origin: even a template bug could not run injected script.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class UiSession:
    principal: Principal
    csrf: str


def csrf_for(key: str) -> str:
    return hmac.new(key.encode(), b"copyloom-ui-csrf-v1", hashlib.sha256).hexdigest()


def current_session(request: Request, services: Services) -> UiSession | None:
    """The signed-in reviewer, or None (no cookie, unknown or revoked key, or a role that may not review)."""
    key = request.cookies.get(COOKIE)
    if not key:
        return None
    try:
        with services.session_factory() as session:
            principal = authenticate(session, key)
    except Unauthenticated:
        return None
    if principal.role not in UI_ROLES:
        return None
    return UiSession(principal, csrf_for(key))


def sign_in(services: Services, key: str) -> Principal:
    with services.session_factory() as session:
        principal = authenticate(session, key.strip())
    if principal.role not in UI_ROLES:
        raise Forbidden("the review pages need a reviewer (or admin) key")
    return principal


def check_csrf(ui: UiSession, token: object) -> None:
    if not isinstance(token, str) or not hmac.compare_digest(token, ui.csrf):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page", code="csrf_failed")


def new_signin_token() -> str:
    return secrets.token_urlsafe(24)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, key: str) -> None:
    response.set_cookie(
        COOKIE, key.strip(), max_age=MAX_AGE_S, path="/ui", httponly=True, samesite="strict", secure=_secure(request)
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/ui")


def set_signin_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SIGNIN_COOKIE, token, max_age=3600, path="/ui", httponly=True, samesite="strict", secure=_secure(request)
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/ui")


def safe_next(target: str | None) -> str:
    """Only our own pages: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/ui/") or target.startswith("//") or "\\" in target:
        return "/ui/"
    return target
