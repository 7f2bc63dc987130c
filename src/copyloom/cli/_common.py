"""What every command shares: settings, a migrated database, errors printed as one clear line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from copyloom.errors import CopyloomError

if TYPE_CHECKING:  # imported when used: ``copyloom --help`` must start fast (see cli/__init__.py)
    from sqlalchemy.orm import Session, sessionmaker

    from copyloom.config import Settings
    from copyloom.models import Workspace

console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def open_db(settings: Settings | None = None) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    """Settings and a session factory on a database with every migration applied, for the ``with`` block: the
    engine's pooled connections are closed when it ends (a command run in-process, by a test or by ``demo``
    before it serves, leaves no connection or file open behind it)."""
    from copyloom.config import get_settings
    from copyloom.db import make_engine, make_session_factory, upgrade

    settings = settings or get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)  # a no-op, without importing Alembic, on a database already at head
        yield settings, make_session_factory(engine)
    finally:
        engine.dispose()


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
