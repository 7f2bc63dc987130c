"""Who did it, in words: audit actors (``key:<id>``, ``system``) shown by their key's label, not an id.

Keys get a label when they are created (``copyloom keys create --label "Dana Lee"``): a person or a system. An
unlabelled key is shown by its role and prefix, so two keys are never confused; the id stays in the record.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from copyloom.domain.workspaces import key_labels

__all__ = ["KEY_ACTOR", "actor_names", "key_name"]

KEY_ACTOR = "key:"


def key_name(label: str | None, role: str, prefix: str) -> str:
    """How a key is named to people: its label, else ``<role> key <prefix>…``."""
    return label.strip() if label and label.strip() else f"{role} key {prefix}…"


def actor_names(session: Session, workspace_id: str, actors: Iterable[str]) -> dict[str, str]:
    """actor -> display name for the given audit actors (keys of this workspace only; others keep their text)."""
    wanted = set(actors)
    ids = {a[len(KEY_ACTOR) :] for a in wanted if a.startswith(KEY_ACTOR)}
    names = {a: a for a in wanted}
    if ids:
        for key_id, label, role, prefix in key_labels(session, workspace_id, ids):
            names[f"{KEY_ACTOR}{key_id}"] = key_name(label, role, prefix)
    return names
