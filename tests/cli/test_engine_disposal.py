"""Every command that opens the database lets go of it when it ends, on success and on an expected error: run
in-process (by a test, or ``demo`` before it serves) an undisposed engine would keep its pooled connections, and
their descriptors on the database file, for the life of the process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

import copyloom.db
from copyloom.cli import app
from copyloom.config import get_settings
from tests.leaks import open_under

runner = CliRunner()

COMMANDS = [
    (["workspaces", "create", "acme"], 0),
    (["keys", "create", "--workspace", "acme", "--role", "admin", "--json"], 0),
    (["keys", "list", "--workspace", "acme"], 0),
    (["workspaces", "list"], 0),
    (["brand", "show", "-w", "ghost"], 2),  # workspace_not_found: the error path closes too
    (["campaigns", "status", "nope", "--workspace", "acme"], 2),
]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors through /proc (Linux)")
def test_each_command_closes_its_database_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    engines: list[Engine] = []
    make_engine = copyloom.db.make_engine

    def recording(url: str, **kwargs: Any) -> Engine:
        engine = make_engine(url, **kwargs)
        engines.append(engine)  # held here, so that no garbage collection closes what the command left open
        return engine

    monkeypatch.setattr(copyloom.db, "make_engine", recording)
    data_dir = get_settings().data_dir.resolve()
    for args, code in COMMANDS:
        before = len(engines)
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.output)
        assert len(engines) == before + 1, args  # the command did open the database
        assert open_under(data_dir) == [], args
        assert engines[-1].pool.checkedin() == 0 and engines[-1].pool.checkedout() == 0, args


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors through /proc (Linux)")
def test_commands_that_build_the_content_engine_close_it() -> None:
    """``demo`` (before it would serve: the server builds its own engine) and ``drafts create`` close the Chroma
    client, the embedding cache and the embedder's workers they opened, not only the database."""
    data_dir = get_settings().data_dir.resolve()
    for args in (
        ["demo", "--no-serve", "--workspace", "disposal"],
        ["drafts", "create", "C1001", "--workspace", "disposal", "--goal", "cross_sell", "--channel", "email"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert open_under(data_dir) == [], args
