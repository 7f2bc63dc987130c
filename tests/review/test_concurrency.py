"""Two reviewers decide on the same draft at the same moment: exactly one wins, the other gets 409.

Runs against a real uvicorn server (real threads, real connections), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.workspaces import create_key
from copyloom.models import Draft, DraftEvent
from tests.review.conftest import Stage
from tests.review.live import serve

pytestmark = pytest.mark.store
ROUNDS = 6


def _race(base: str, requests: list[tuple[str, dict[str, Any], str]]) -> list[int]:
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = [0] * len(requests)

    def _one(i: int, path: str, body: dict[str, Any], key: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            statuses[i] = http.post(path, json=body, headers={"Authorization": f"Bearer {key}"}).status_code

    threads = [threading.Thread(target=_one, args=(i, *req)) for i, req in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def _count(session_factory: sessionmaker[Session], draft_id: str, kinds: tuple[str, ...]) -> int:
    with session_factory() as s:
        return int(
            s.scalar(select(func.count()).where(DraftEvent.draft_id == draft_id, DraftEvent.kind.in_(kinds))) or 0
        )


def test_two_reviewers_approving_at_once_one_wins(
    db_backend: str,
    app: Any,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
    workspace: str,
) -> None:
    with write(session_factory) as s:
        second = create_key(s, workspace, Role.REVIEWER).key
    src = generate()[0]["id"]
    drafts = [stage(src) for _ in range(ROUNDS)]
    with serve(app) as base:
        for draft_id in drafts:
            path = f"/v1/reviews/{draft_id}/approve"
            statuses = _race(base, [(path, {}, keys[Role.REVIEWER]), (path, {}, second)])
            assert sorted(statuses) == [200, 409], statuses
            assert _count(session_factory, draft_id, ("approved",)) == 1
            with session_factory() as s:
                row = s.get(Draft, draft_id)
                assert row is not None and row.status == "approved" and row.version == 2


def test_approve_racing_reject_leaves_one_decision(
    db_backend: str,
    app: Any,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
) -> None:
    src = generate()[0]["id"]
    drafts = [stage(src) for _ in range(ROUNDS)]
    reviewer = keys[Role.REVIEWER]
    with serve(app) as base:
        for draft_id in drafts:
            statuses = _race(
                base,
                [
                    (f"/v1/reviews/{draft_id}/approve", {}, reviewer),
                    (f"/v1/reviews/{draft_id}/reject", {"reason_code": "other"}, keys[Role.ADMIN]),
                ],
            )
            assert sorted(statuses) == [200, 409], statuses
            assert _count(session_factory, draft_id, ("approved", "rejected")) == 1


def test_a_decision_based_on_a_stale_read_writes_nothing(
    db_backend: str,
    client: Any,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    session_factory: sessionmaker[Session],
    workspace: str,
) -> None:
    """The compare-and-set itself (not the early status check) refuses the slower of two decisions."""
    from copyloom.domain.drafts import compare_and_set
    from copyloom.errors import Conflict
    from copyloom.review.actions import _read

    draft_id = generate()[0]["id"]
    seen = _read(session_factory, workspace, draft_id)  # the slower reviewer's read, before the other decides
    resp = client.post(
        f"/v1/reviews/{draft_id}/reject",
        json={"reason_code": "other"},
        headers={"Authorization": f"Bearer {keys[Role.REVIEWER]}"},
    )
    assert resp.status_code == 200
    with pytest.raises(Conflict) as caught, write(session_factory) as s:
        compare_and_set(s, seen, {"status": "approved"})
    assert caught.value.code == "already_reviewed"
    with session_factory() as s:
        row = s.get(Draft, draft_id)
        assert row is not None and row.status == "rejected" and row.version == 2
