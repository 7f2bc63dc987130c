"""Shared fixtures: an isolated data directory, a migrated SQLite database, the app and keys per role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from copyloom.api.app import create_app
from copyloom.api.services import Services
from copyloom.config import Settings, get_settings
from copyloom.db import make_engine, make_session_factory, session_scope, upgrade
from copyloom.domain.enums import Role
from copyloom.domain.workspaces import create_key, create_workspace

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.effective_database_url)
    upgrade(eng)
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
    with session_scope(session_factory) as session:
        create_workspace(session, "acme", "Acme Outdoor")
    return "acme"


@pytest.fixture
def services(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> Services:
    return Services(settings=settings, engine=engine, session_factory=session_factory)


@pytest.fixture
def app(services: Services) -> Any:
    return create_app(services.settings, services)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def make_keys(session_factory: sessionmaker[Session], workspace_id: str) -> dict[Role, str]:
    with session_scope(session_factory) as session:
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

    with session_scope(session_factory) as session:
        load_demo(session, workspace)
    return workspace
