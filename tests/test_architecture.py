"""ARCHITECTURE.md matches the tree: every module or folder it names exists, and it names every subpackage."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import copyloom

ROOT = Path(copyloom.__file__).parent
DOC = (Path(__file__).parents[1] / "ARCHITECTURE.md").read_text(encoding="utf-8")
# `content/drafts/flow.py`, `contracts/cache.py::TTLCache`, `domain/`: relative to src/copyloom
PATHS = sorted({m for m in re.findall(r"`([a-z_]+/[a-z_/]*(?:\.py)?)(?:::\w+)?`", DOC) if not m.startswith("src/")})


# `facts.py` in the list of what contracts/ holds: a module of that name somewhere in the tree
NAMES = sorted(set(re.findall(r"`([a-z_]+\.py)`", DOC)))


def test_the_doc_names_paths() -> None:
    assert len(PATHS) > 20 and len(NAMES) > 5


def test_every_module_name_the_doc_gives_is_a_module_of_the_tree() -> None:
    missing = [n for n in NAMES if not any(ROOT.rglob(n))]
    assert not missing, f"ARCHITECTURE.md names modules that do not exist: {missing}"


def test_every_path_the_doc_names_exists() -> None:
    missing = [p for p in PATHS if not (ROOT / p).exists()]
    assert not missing, f"ARCHITECTURE.md names what is not in src/copyloom: {missing}"


def test_the_doc_names_every_subpackage() -> None:
    packages = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "migrations")
    unnamed = [p for p in packages if not re.search(rf"\b{p}\b", DOC)]
    assert not unnamed, f"ARCHITECTURE.md does not place {unnamed}"


SQL_BUILDERS = {"select", "update", "insert", "delete", "union_all", "text", "func"}
# Use cases whose SQL lives in the repositories (domain/drafts.py, domain/draft_queue.py, domain/contacts.py, ...).
WITHOUT_SQL = ("content/drafts", "content/journey", "review")


def _sqlalchemy_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
    }


def test_use_cases_write_no_sql_the_repositories_hold_it() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_sqlalchemy_imports(path) & SQL_BUILDERS)
        for folder in WITHOUT_SQL
        for path in sorted((ROOT / folder).rglob("*.py"))
        if _sqlalchemy_imports(path) & SQL_BUILDERS
    }
    assert not offenders, f"SQL written outside domain/: {offenders}"


def test_routes_never_commit_the_unit_of_work_does() -> None:
    committing = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "api").rglob("*.py"))
        if any(
            isinstance(node, ast.Attribute) and node.attr in ("commit", "begin")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert not committing, f"these modules of api/ commit or begin a transaction themselves: {committing}"
