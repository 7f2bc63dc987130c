"""Settings that depend on each other."""

from __future__ import annotations

from pathlib import Path

from copyloom.config import Settings


def test_decision_threads_default_to_one_on_sqlite_and_many_on_a_database_server(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).effective_decision_db_threads == 1
    server = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://copyloom@db.internal/copyloom")
    assert server.effective_decision_db_threads == 40
    assert Settings(data_dir=tmp_path, decision_db_threads=3).effective_decision_db_threads == 3
