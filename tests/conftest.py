"""Shared fixtures: an isolated data directory, a migrated SQLite database, the app and keys per role."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.app import create_app
from copyloom.api.services import Services
from copyloom.config import Settings, get_settings
from copyloom.contracts.enums import Role
from copyloom.db import make_engine, make_session_factory, upgrade, write
from copyloom.domain.workspaces import create_key, create_workspace

# Descriptor, thread and child-process growth per module, warned and listed at the end (tests/leaks.py).
pytest_plugins = ["tests.leaks"]

# The external data sets: ../shared/data beside the repository, or $COPYLOOM_SHARED_DATA (a worktree elsewhere).
SHARED_DATA = Path(os.environ.get("COPYLOOM_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing in a test reads the developer's own settings or data directory."""
    for name in list(os.environ):
        if name.startswith("COPYLOOM_") and not name.startswith("COPYLOOM_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COPYLOOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``store`` run once on SQLite and once on the PostgreSQL server that .ci/run starts."""
    if "db_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("store"):
        metafunc.parametrize(
            "db_backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
        )


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def settings(tmp_path: Path, db_backend: str) -> Iterator[Settings]:
    if db_backend == "sqlite":
        yield Settings(data_dir=tmp_path / "data")
        return
    base = os.environ.get("COPYLOOM_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("COPYLOOM_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    # One schema per test keeps tests independent without the cost of a database per test.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield Settings(data_dir=tmp_path / "data", database_url=f"{base}{sep}options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with every migration applied, made once: each test's database starts as a copy of it
    (migrating afresh took 0.2-1 s a test on a busy machine, over a thousand times a run)."""
    path = tmp_path_factory.mktemp("migrated") / "copyloom.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    eng.dispose()
    with closing(sqlite3.connect(path)) as conn:  # everything in the main file: the copy takes no -wal with it
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def engine(settings: Settings, migrated_sqlite: Path) -> Iterator[Engine]:
    if not settings.database_url:  # the default SQLite file under the data directory
        target = settings.data_dir / "copyloom.db"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(migrated_sqlite, target)
    eng = make_engine(settings.effective_database_url)
    upgrade(eng)  # a no-op on the copy (it is at head); a real migration for PostgreSQL's fresh schema
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def workspace(session_factory: sessionmaker[Session]) -> str:
    with write(session_factory) as session:
        create_workspace(session, "acme", "Acme Outdoor")
    return "acme"


@pytest.fixture
def services(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> Iterator[Services]:
    services = Services(settings=settings, engine=engine, session_factory=session_factory)
    yield services
    services.close()  # the runner's threads, the Chroma client's files and runtime: ~4 descriptors a test


@pytest.fixture
def app(services: Services) -> Any:
    return create_app(services.settings, services)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def make_keys(session_factory: sessionmaker[Session], workspace_id: str) -> dict[Role, str]:
    with write(session_factory) as session:
        return {role: create_key(session, workspace_id, role).key for role in Role}


@pytest.fixture
def keys(session_factory: sessionmaker[Session], workspace: str) -> dict[Role, str]:
    return make_keys(session_factory, workspace)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def demo_workspace(session_factory: sessionmaker[Session], workspace: str) -> str:
    """Workspace "acme" loaded with the Northwind Outfitters demo dataset."""
    from copyloom.domain.demo import load_demo

    with write(session_factory) as session:
        load_demo(session, workspace)
    return workspace


@pytest.fixture
def local_chroma(tmp_path: Path) -> Iterator[Any]:
    """A local Chroma client under the test's directory, closed afterwards: an open one keeps its SQLite files and
    its runtime's descriptors (about four) for the rest of the run."""
    from copyloom.retrieval.store import make_chroma_client

    client = make_chroma_client(Settings(data_dir=tmp_path / "chroma"))
    yield client
    client.close()


@pytest.fixture
def content_engine(services: Services, session_factory: sessionmaker[Session], demo_workspace: str) -> Any:
    """The demo workspace indexed on local Chroma with a fast deterministic embedder, the offline generator,
    installed in the app's services."""
    from copyloom.content.engine import ContentEngine
    from copyloom.contracts.tokens import get_token_counter
    from copyloom.genai.factory import build_generator
    from copyloom.retrieval.indexer import index_workspace
    from copyloom.retrieval.store import VectorStore, make_chroma_client
    from tests.fakes import HashEmbedder

    embedder = HashEmbedder()
    store = VectorStore(make_chroma_client(services.settings), embedder)
    engine = ContentEngine(
        settings=services.settings,
        store=store,
        embedder=embedder,
        generator=build_generator(services.settings),
        token_counter=get_token_counter(None),
    )
    with write(session_factory) as session:
        index_workspace(session, store, embedder, demo_workspace)
    services.content = engine
    return engine  # closed with the services
