"""What every command shares: settings, a migrated database, errors printed as one clear line."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from copyloom.errors import CopyloomError

if TYPE_CHECKING:  # imported when used: ``copyloom --help`` must start fast (see cli/__init__.py)
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from copyloom.config import Settings
    from copyloom.models import Workspace

console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


def open_db(settings: Settings | None = None) -> tuple[Settings, sessionmaker[Session]]:
    """Settings and a session factory on a database with every migration applied."""
    from copyloom.config import get_settings
    from copyloom.db import make_engine, make_session_factory, upgrade

    settings = settings or get_settings()
    engine = make_engine(settings.effective_database_url)
    if not at_head(engine):
        upgrade(engine)
    return settings, make_session_factory(engine)


def head_revisions(versions: Path | None = None) -> set[str]:
    """The migration heads, read from the revision files' ``revision``/``down_revision`` literals.

    Importing Alembic costs about half a second (it loads every dialect's DDL module); a command on an up-to-date
    database (most runs) needs only to know that there is nothing to apply. tests/cli checks this against
    Alembic's own ``ScriptDirectory.get_heads()``.
    """
    if versions is None:
        from copyloom.db import MIGRATIONS_DIR

        versions = MIGRATIONS_DIR / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                name, expression = node.target.id, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name, expression = node.targets[0].id, node.value
            else:
                continue
            if name not in ("revision", "down_revision"):
                continue
            value = ast.literal_eval(expression)
            if name == "revision":
                revisions.add(value)
            elif name == "down_revision" and value is not None:
                parents.update([value] if isinstance(value, str) else value)
    return revisions - parents


def at_head(engine: Engine) -> bool:
    """Whether the database already carries every migration (a missing version table means no)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as conn:
            current = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:
        return False
    heads = head_revisions()
    return bool(heads) and current == heads


def resolve_workspace(session: Session, workspace_id: str) -> Workspace:
    from copyloom.domain.workspaces import get_workspace

    return get_workspace(session, workspace_id)


def print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, default=str))


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Expected failures exit with status 2 and one line (code: message), never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CopyloomError as exc:
            field = f" ({exc.field})" if exc.field else ""
            console.print(f"[red]error[/red] {exc.code}{field}: {exc.message}")
            raise typer.Exit(2) from exc

    return wrapper
