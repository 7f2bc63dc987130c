"""``copyloom keys create --label``: who holds a key, listed by ``keys list`` and named in the audit trail."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from copyloom.cli import app
from copyloom.config import get_settings
from copyloom.db import make_engine, make_session_factory, write
from copyloom.review.actors import actor_names

runner = CliRunner()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_labelled_key_is_listed_and_named_by_its_label() -> None:
    _ok("workspaces", "create", "acme")
    issued = json.loads(
        _ok("keys", "create", "--workspace", "acme", "--role", "reviewer", "--label", "Dana Lee", "--json")
    )
    bare = json.loads(_ok("keys", "create", "--workspace", "acme", "--role", "marketer", "--json"))
    listing = {
        line.split("\t")[0]: line.split("\t") for line in _ok("keys", "list", "--workspace", "acme").splitlines()
    }
    assert listing[issued["key_id"]][-1] == "Dana Lee" and listing[bare["key_id"]][-1] == ""
    factory = make_session_factory(make_engine(get_settings().effective_database_url))
    with write(factory) as session:
        names = actor_names(session, "acme", [f"key:{issued['key_id']}", f"key:{bare['key_id']}"])
    assert names[f"key:{issued['key_id']}"] == "Dana Lee"
    bare_name = names[f"key:{bare['key_id']}"]  # an unlabelled key: its role and prefix, never its id
    assert bare_name.startswith("marketer key cl_") and bare_name.endswith("…") and bare["key_id"] not in bare_name


def test_a_label_over_the_limit_exits_2_without_a_key() -> None:
    _ok("workspaces", "create", "acme")
    result = runner.invoke(app, ["keys", "create", "--workspace", "acme", "--role", "admin", "--label", "x" * 201])
    assert result.exit_code == 2, result.output
    assert _ok("keys", "list", "--workspace", "acme").strip() == ""
