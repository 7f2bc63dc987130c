"""Signing in to the reviewer pages: a server-side session behind an HttpOnly, SameSite=Strict cookie; forms carry
a CSRF token.

The cookie holds a random session token, never the API key: the database keeps only the token's SHA-256, and the
session ends at sign-out, after MAX_AGE_S, or as soon as its key is revoked. The CSRF token is an HMAC of the
session token, so it needs no state of its own and cannot be guessed without the cookie. The sign-in form itself
is protected by a double-submit cookie (against signing a victim in to an attacker's workspace).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import delete, select

from copyloom.api.services import Services
from copyloom.contracts.enums import Role
from copyloom.db import read, write
from copyloom.domain.workspaces import Principal, authenticate, hash_key
from copyloom.errors import Forbidden
from copyloom.models import ApiKey, ReviewerSession, utcnow
from copyloom.review.actors import key_name

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
    name: str = ""  # the key's label (a person or a system), else its role and prefix


def csrf_for(token: str) -> str:
    return hmac.new(token.encode(), b"copyloom-ui-csrf-v1", hashlib.sha256).hexdigest()


def current_session(request: Request, services: Services) -> UiSession | None:
    """The signed-in reviewer, or None (no cookie, unknown or expired session, revoked key, or a role that may
    not review)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    with read(services.session_factory) as session:
        row = session.execute(
            select(
                ApiKey.id,
                ApiKey.workspace_id,
                ApiKey.role,
                ApiKey.revoked_at,
                ApiKey.label,
                ApiKey.prefix,
                ReviewerSession.expires_at,
            )
            .join(ReviewerSession, ReviewerSession.api_key_id == ApiKey.id)
            .where(ReviewerSession.token_hash == hash_key(token))
        ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    role = Role(row.role)
    if role not in UI_ROLES:
        return None
    principal = Principal(workspace_id=row.workspace_id, role=role, key_id=row.id)
    return UiSession(principal, csrf_for(token), key_name(row.label, row.role, row.prefix))


def sign_in(services: Services, key: str) -> str:
    """Check a reviewer's key and open a session; returns the session token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with write(services.session_factory) as session:
        principal = authenticate(session, key.strip())
        if principal.role not in UI_ROLES:
            raise Forbidden("the review pages need a reviewer (or admin) key")
        session.execute(delete(ReviewerSession).where(ReviewerSession.expires_at <= now))  # tidy up as we go
        session.add(
            ReviewerSession(
                token_hash=hash_key(token),
                api_key_id=principal.key_id,
                created_at=now,
                expires_at=now + timedelta(seconds=MAX_AGE_S),
            )
        )
    return token


def sign_out(request: Request, services: Services) -> None:
    """End the session of this request's cookie (if any): the token is worthless from now on."""
    token = request.cookies.get(COOKIE)
    if token:
        with write(services.session_factory) as session:
            session.execute(delete(ReviewerSession).where(ReviewerSession.token_hash == hash_key(token)))


def check_csrf(ui: UiSession, token: object) -> None:
    if not isinstance(token, str) or not hmac.compare_digest(token, ui.csrf):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page", code="csrf_failed")


def new_signin_token() -> str:
    return secrets.token_urlsafe(24)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE, token, max_age=MAX_AGE_S, path="/ui", httponly=True, samesite="strict", secure=_secure(request)
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
