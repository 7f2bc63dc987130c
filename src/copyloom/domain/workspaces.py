"""Workspaces and API keys. A key is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.db import read
from copyloom.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from copyloom.models import ApiKey, Workspace, utcnow

_WORKSPACE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
KEY_PREFIX = "cl_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key of one role in one workspace."""

    workspace_id: str
    role: Role
    key_id: str


@dataclass(frozen=True)
class IssuedKey:
    key: str
    key_id: str
    workspace_id: str
    role: Role


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_workspace(session: Session, workspace_id: str, name: str | None = None) -> Workspace:
    if not _WORKSPACE_ID.match(workspace_id):
        raise InvalidInput(
            "workspace ids are 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit",
            field="workspace",
        )
    if session.get(Workspace, workspace_id) is not None:
        raise Conflict(f"workspace {workspace_id!r} already exists", code="workspace_exists")
    ws = Workspace(id=workspace_id, name=name or workspace_id)
    session.add(ws)
    session.flush()
    return ws


def get_workspace(session: Session, workspace_id: str) -> Workspace:
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        raise NotFound(f"no workspace {workspace_id!r}", code="workspace_not_found", field="workspace")
    return ws


def list_workspaces(session: Session) -> list[Workspace]:
    return list(session.scalars(select(Workspace).order_by(Workspace.id)))


MAX_LABEL = 200


def create_key(session: Session, workspace_id: str, role: Role, label: str | None = None) -> IssuedKey:
    """A new key; ``label`` names who holds it (a person or a system) wherever its actions are shown."""
    label = (label or "").strip() or None
    if label is not None and len(label) > MAX_LABEL:
        raise InvalidInput(f"a key label has at most {MAX_LABEL} characters", code="label_too_long", field="label")
    get_workspace(session, workspace_id)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(workspace_id=workspace_id, role=role.value, prefix=secret[:10], key_hash=hash_key(secret), label=label)
    session.add(row)
    session.flush()
    return IssuedKey(key=secret, key_id=row.id, workspace_id=workspace_id, role=role)


def key_labels(session: Session, workspace_id: str, key_ids: Iterable[str]) -> list[tuple[str, str | None, str, str]]:
    """(id, label, role, prefix) of the workspace's keys among ``key_ids`` (others' keys are absent)."""
    query = select(ApiKey.id, ApiKey.label, ApiKey.role, ApiKey.prefix).where(
        ApiKey.workspace_id == workspace_id, ApiKey.id.in_(set(key_ids))
    )
    return list(session.execute(query).tuples())


def list_keys(session: Session, workspace_id: str) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.workspace_id == workspace_id).order_by(ApiKey.created_at)))


def revoke_key(session: Session, key_id_or_prefix: str) -> ApiKey:
    row = (
        session.get(ApiKey, key_id_or_prefix)
        or session.scalars(select(ApiKey).where(ApiKey.prefix == key_id_or_prefix)).first()
    )
    if row is None:
        raise NotFound(f"no key {key_id_or_prefix!r}", code="key_not_found", field="key")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    forget_cached_keys()
    return row


# key hash -> (monotonic time, principal). Revoking in this process clears it; another process (the CLI) revoking
# a key is seen here within AUTH_CACHE_TTL_S.
_AUTH_CACHE: dict[str, tuple[float, Principal]] = {}
_AUTH_LOCK = threading.Lock()
AUTH_CACHE_TTL_S = 10.0


def cached_principal(key: str) -> Principal | None:
    hit = _AUTH_CACHE.get(hash_key(key))
    if hit is not None and time.monotonic() - hit[0] < AUTH_CACHE_TTL_S:
        return hit[1]
    return None


def authenticate_cached(factory: sessionmaker[Session], key: str) -> Principal:
    """``authenticate`` with a short-lived cache of valid keys (unknown keys are never cached)."""
    principal = cached_principal(key)
    if principal is not None:
        return principal
    with read(factory) as session:
        principal = authenticate(session, key)
    with _AUTH_LOCK:
        if len(_AUTH_CACHE) > 10_000:
            _AUTH_CACHE.clear()
        _AUTH_CACHE[hash_key(key)] = (time.monotonic(), principal)
    return principal


def forget_cached_keys() -> None:
    with _AUTH_LOCK:
        _AUTH_CACHE.clear()


def authenticate(session: Session, key: str) -> Principal:
    """Resolve a bearer key; unknown and revoked keys are indistinguishable to the caller."""
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("unknown or revoked API key")
    return Principal(workspace_id=row.workspace_id, role=Role(row.role), key_id=row.id)
