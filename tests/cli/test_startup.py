"""Commands load their modules only when they run: ``--help`` does not import the content engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from typer.testing import CliRunner

from copyloom.cli import COMMANDS, app
from copyloom.db import MIGRATIONS_DIR, at_head, head_revisions, make_engine, upgrade

HEAVY = ("chromadb", "langchain_core", "copyloom.content", "copyloom.retrieval.bundle", "uvicorn", "sqlalchemy")
# What a key or workspace command must never load: the model runtime, the vector store, the LLM stack, the API.
ENGINE_STACK = ("chromadb", "langchain", "onnxruntime", "jieba", "numpy", "fastapi", "uvicorn", "copyloom.content")


def _modules_after(args: list[str], tmp_path: Path) -> set[str]:
    code = (
        "import sys, json\n"
        "from copyloom.cli import app\n"
        "try:\n"
        f"    app({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "COPYLOOM_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_imports_no_heavy_module(tmp_path: Path) -> None:
    loaded = _modules_after(["--help"], tmp_path)
    assert not [m for m in loaded if m.startswith(HEAVY)]


def test_keys_commands_do_not_import_the_content_engine(tmp_path: Path) -> None:
    loaded = _modules_after(["keys", "--help"], tmp_path)
    assert not [m for m in loaded if m.startswith(("chromadb", "langchain_core", "copyloom.content"))]


def test_keys_and_workspaces_commands_run_without_the_engine_stack(tmp_path: Path) -> None:
    first = _modules_after(["workspaces", "create", "acme"], tmp_path)  # a fresh database: migrations run
    assert "alembic" in first and not [m for m in first if m.startswith(ENGINE_STACK)]
    for args in (["keys", "create", "--workspace", "acme", "--role", "admin"], ["workspaces", "list"]):
        loaded = _modules_after(args, tmp_path)
        assert "copyloom.domain.workspaces" in loaded  # the command did run
        assert not [m for m in loaded if m.startswith(ENGINE_STACK)], args
        assert "alembic" not in loaded, args  # an up-to-date database: nothing to apply, Alembic not imported


def test_head_revisions_agree_with_alembic() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revisions() == set(ScriptDirectory.from_config(config).get_heads())


def test_at_head_only_once_every_migration_is_applied(tmp_path: Path) -> None:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert not at_head(engine)  # no version table yet
    upgrade(engine)
    assert at_head(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    assert not at_head(engine)
    engine.dispose()


def test_every_listed_command_loads_and_has_help() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["--help"])
    assert listing.exit_code == 0
    for name in COMMANDS:
        assert name in listing.stdout
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage" in result.stdout


def test_upgrade_at_head_does_not_load_alembic(tmp_path: Path) -> None:
    """Every process (server, worker, CLI) calls upgrade(); on a database at head it must not pay for Alembic."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    code = (
        "import sys; from copyloom.db import make_engine, upgrade; e = make_engine(sys.argv[1]); upgrade(e); "
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"
