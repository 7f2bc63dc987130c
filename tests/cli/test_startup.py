"""Commands load their modules only when they run: ``--help`` does not import the content engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from copyloom.cli import COMMANDS, app

HEAVY = ("chromadb", "langchain_core", "copyloom.content", "copyloom.retrieval.bundle", "uvicorn", "sqlalchemy")


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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_imports_no_heavy_module(tmp_path: Path) -> None:
    loaded = _modules_after(["--help"], tmp_path)
    assert not [m for m in loaded if m.startswith(HEAVY)]


def test_keys_commands_do_not_import_the_content_engine(tmp_path: Path) -> None:
    loaded = _modules_after(["keys", "--help"], tmp_path)
    assert not [m for m in loaded if m.startswith(("chromadb", "langchain_core", "copyloom.content"))]


def test_every_listed_command_loads_and_has_help() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["--help"])
    assert listing.exit_code == 0
    for name in COMMANDS:
        assert name in listing.stdout
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage" in result.stdout
