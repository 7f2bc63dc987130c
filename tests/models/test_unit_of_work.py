"""The unit of work: ``write()`` commits on success and rolls back on error, ``read()`` never commits, and work
registered with ``after_commit`` runs only once the commit it depends on is visible to other sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.db import after_commit, read, write
from copyloom.models import Workspace

pytestmark = pytest.mark.store


def _names(factory: sessionmaker[Session]) -> list[str]:
    with read(factory) as session:
        return sorted(session.scalars(select(Workspace.id)))


def test_write_commits_when_the_block_ends(session_factory: sessionmaker[Session]) -> None:
    with write(session_factory) as session:
        session.add(Workspace(id="w1", name="One"))
    assert _names(session_factory) == ["w1"]


def test_write_rolls_back_everything_on_an_error(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), write(session_factory) as session:
        session.add(Workspace(id="w1", name="One"))
        session.flush()
        raise RuntimeError("half-way")
    assert _names(session_factory) == []


def test_read_never_commits_what_it_changed(session_factory: sessionmaker[Session]) -> None:
    with write(session_factory) as session:
        session.add(Workspace(id="w1", name="One"))
    with read(session_factory) as session:
        row = session.get(Workspace, "w1")
        assert row is not None
    assert row.name == "One"  # what was read stays readable after the block
    with read(session_factory) as session:
        session.add(Workspace(id="w2", name="Two"))
        session.flush()
    assert _names(session_factory) == ["w1"]


def test_after_commit_runs_once_the_rows_are_visible_to_others(session_factory: sessionmaker[Session]) -> None:
    seen: list[int] = []

    def count_from_another_session() -> None:
        with read(session_factory) as other:
            seen.append(other.scalar(select(func.count()).select_from(Workspace)) or 0)

    with write(session_factory) as session:
        session.add(Workspace(id="w1", name="One"))
        after_commit(session, count_from_another_session)
        assert seen == []  # not before the commit
    assert seen == [1]


def test_after_commit_never_runs_when_the_unit_rolls_back(session_factory: sessionmaker[Session]) -> None:
    ran: list[str] = []
    with pytest.raises(RuntimeError), write(session_factory) as session:
        after_commit(session, lambda: ran.append("ran"))
        raise RuntimeError("failed")
    with read(session_factory) as session:
        after_commit(session, lambda: ran.append("ran"))  # a read never commits
    assert ran == []
