"""Workspaces and API keys. A key is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from copyloom.domain.enums import Role
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


def create_key(session: Session, workspace_id: str, role: Role, label: str | None = None) -> IssuedKey:
    get_workspace(session, workspace_id)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(workspace_id=workspace_id, role=role.value, prefix=secret[:10], key_hash=hash_key(secret), label=label)
    session.add(row)
    session.flush()
    return IssuedKey(key=secret, key_id=row.id, workspace_id=workspace_id, role=role)


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
    return row


def authenticate(session: Session, key: str) -> Principal:
    """Resolve a bearer key; unknown and revoked keys are indistinguishable to the caller."""
    row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("unknown or revoked API key")
    return Principal(workspace_id=row.workspace_id, role=Role(row.role), key_id=row.id)
