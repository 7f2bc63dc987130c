"""The review API: queue order, filters, pagination, counts; approve/reject/edit rules; history; scoping; roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.workspaces import create_workspace
from copyloom.models import Campaign, Draft, DraftEvent
from tests.conftest import auth, make_keys
from tests.review.conftest import Stage

# Variations of the offline generator's SMS for customer C1001 (a real bundle: titanium pot $59.00 paired with the stove they bought).
OPENING = "Goes with your order"


def shouting(text: str) -> str:
    """Flagged by tone (shouting), with a located evidence span."""
    assert OPENING in text, text
    return text.replace(OPENING, "GOES WITH YOUR ORDER TODAY")


def reworded(text: str) -> str:
    """Passes every check."""
    return text.replace(OPENING, "Picked to go with your order")


def hallucinated(text: str) -> str:
    """Blocked by grounding: a price that no fact holds."""
    assert "$59.00" in text, text
    return text.replace("$59.00", "$99.00")


def _reviewer(keys: dict[Role, str]) -> dict[str, str]:
    return auth(keys[Role.REVIEWER])


def _events(session_factory: sessionmaker[Session], draft_id: str) -> list[DraftEvent]:
    with session_factory() as s:
        return list(s.query(DraftEvent).filter_by(draft_id=draft_id).order_by(DraftEvent.id))


def test_queue_orders_by_priority_then_oldest_first_and_paginates(
    client: TestClient, keys: dict[Role, str], generate: Callable[..., list[dict[str, Any]]], stage: Stage
) -> None:
    src = generate()[0]["id"]
    low_old = stage(src, priority=0, age_minutes=60)
    high_new = stage(src, priority=3, age_minutes=1)
    high_old = stage(src, priority=3, age_minutes=30)
    mid = stage(src, priority=2, age_minutes=90)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/reviews", params=params, headers=_reviewer(keys)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    staged = [high_old, high_new, mid, low_old]
    assert [i for i in seen if i in staged] == staged
    assert len(seen) == len(set(seen)) == page["counts"]["pending"]


def test_queue_filters_by_channel_campaign_and_status_with_counts(
    client: TestClient,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
    workspace: str,
) -> None:
    sms, email = (d["id"] for d in generate(channels=("sms", "email")))
    with write(session_factory) as s:
        s.add(Campaign(id="camp1", workspace_id=workspace, name="Spring", brief={}, channels=["sms"], audience={}))
    in_campaign = stage(sms, campaign_id="camp1")
    stage(sms, status="approved")
    stage(email, status="rejected")
    page = client.get("/v1/reviews", params={"channel": "email"}, headers=_reviewer(keys)).json()
    assert {i["channel"] for i in page["items"]} == {"email"}
    assert page["counts"]["rejected"] == 1
    page = client.get("/v1/reviews", params={"campaign_id": "camp1"}, headers=_reviewer(keys)).json()
    assert [i["id"] for i in page["items"]] == [in_campaign]
    assert page["counts"]["pending"] == 1 and page["counts"]["pending_by_channel"] == {"sms": 1}
    page = client.get("/v1/reviews", params={"status": "approved"}, headers=_reviewer(keys)).json()
    assert [i["status"] for i in page["items"]] == ["approved"]
    all_counts = client.get("/v1/reviews", headers=_reviewer(keys)).json()["counts"]
    assert all_counts["pending_by_channel"] == {"email": 1, "sms": 2}
    bad = client.get("/v1/reviews", params={"status": "maybe"}, headers=_reviewer(keys))
    assert bad.status_code == 422


def test_approve_needs_every_flag_acknowledged(
    client: TestClient,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
) -> None:
    src = generate()[0]
    flagged = stage(src["id"], {"text": shouting(src["content"]["text"])})
    with session_factory() as s:
        draft = s.get(Draft, flagged)
        assert draft is not None and draft.verdict == "flag"
    resp = client.post(f"/v1/reviews/{flagged}/approve", json={}, headers=_reviewer(keys))
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "unacknowledged_flags" and err["details"]["missing"] == ["tone"]
    ok = client.post(
        f"/v1/reviews/{flagged}/approve",
        json={"acknowledged_flags": ["tone"], "comment": "caps are the brand's style here"},
        headers=_reviewer(keys),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved"
    approvals = [e for e in _events(session_factory, flagged) if e.kind == "approved"]
    assert len(approvals) == 1
    assert approvals[0].actor.startswith("key:") and approvals[0].data["acknowledged_flags"] == ["tone"]
    again = client.post(
        f"/v1/reviews/{flagged}/approve", json={"acknowledged_flags": ["tone"]}, headers=_reviewer(keys)
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reviewed"


def test_blocked_draft_cannot_be_approved_rejected_or_edited(
    client: TestClient, keys: dict[Role, str], generate: Callable[..., list[dict[str, Any]]], stage: Stage
) -> None:
    src = generate()[0]
    blocked = stage(src["id"], {"text": hallucinated(src["content"]["text"])})
    for action, body in (
        ("approve", {"acknowledged_flags": ["grounding"]}),
        ("reject", {"reason_code": "inaccurate"}),
        ("edit", {"content": {"text": reworded(src["content"]["text"])}}),
    ):
        resp = client.post(f"/v1/reviews/{blocked}/{action}", json=body, headers=_reviewer(keys))
        assert resp.status_code == 409, (action, resp.text)
        assert resp.json()["error"]["code"] == "draft_blocked"


def test_reject_stores_the_reason_and_refuses_unknown_reasons(
    client: TestClient,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    session_factory: sessionmaker[Session],
) -> None:
    draft_id = generate()[0]["id"]
    bad = client.post(f"/v1/reviews/{draft_id}/reject", json={"reason_code": "ugly"}, headers=_reviewer(keys))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "body.reason_code"
    resp = client.post(
        f"/v1/reviews/{draft_id}/reject",
        json={"reason_code": "off_brand", "comment": "too pushy"},
        headers=_reviewer(keys),
    )
    assert resp.status_code == 200 and resp.json()["status"] == "rejected"
    rejected = [e for e in _events(session_factory, draft_id) if e.kind == "rejected"]
    assert [(e.data["reason_code"], e.data["comment"]) for e in rejected] == [("off_brand", "too pushy")]


def test_edit_that_fixes_a_flagged_draft_approves_it_and_records_the_diff(
    client: TestClient,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
) -> None:
    src = generate()[0]
    flagged = stage(src["id"], {"text": shouting(src["content"]["text"])})
    fixed = reworded(src["content"]["text"])
    resp = client.post(
        f"/v1/reviews/{flagged}/edit",
        json={"content": {"channel": "sms", "text": fixed}, "comment": "no shouting"},
        headers=_reviewer(keys),
    )
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["status"] == "approved" and out["verdict"] == "pass" and out["content"]["text"] == fixed
    kinds = [e.kind for e in _events(session_factory, flagged)]
    assert kinds[-3:] == ["edited", "checked", "approved"]
    edited = next(e for e in _events(session_factory, flagged) if e.kind == "edited")
    changes = edited.data["diff"][0]["changes"]
    assert edited.data["diff"][0]["field"] == "text"
    assert changes == [{"before": "GOES WITH YOUR ORDER TODAY", "after": "Picked to go with your order"}]


def test_edit_with_a_hallucinated_price_is_refused_and_changes_nothing(
    client: TestClient,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    session_factory: sessionmaker[Session],
) -> None:
    draft = generate()[0]
    before = _events(session_factory, draft["id"])
    resp = client.post(
        f"/v1/reviews/{draft['id']}/edit",
        json={"content": {"text": hallucinated(draft["content"]["text"])}},
        headers=_reviewer(keys),
    )
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "edit_blocked"
    grounding = next(r for r in err["details"]["report"]["results"] if r["check"] == "grounding")
    assert grounding["verdict"] == "block" and grounding["evidence"][0]["text"] == "$99.00"
    with session_factory() as s:
        row = s.get(Draft, draft["id"])
        assert row is not None and row.content == draft["content"] and row.version == 1
    assert len(_events(session_factory, draft["id"])) == len(before)


def test_edit_that_still_flags_stays_pending_with_the_new_report(
    client: TestClient, keys: dict[Role, str], generate: Callable[..., list[dict[str, Any]]]
) -> None:
    src = generate()[0]
    draft_id = src["id"]
    body = {"content": {"text": shouting(src["content"]["text"])}}
    resp = client.post(f"/v1/reviews/{draft_id}/edit", json=body, headers=_reviewer(keys))
    assert resp.status_code == 200
    out = resp.json()
    assert out["status"] == "pending_review" and out["verdict"] == "flag"
    assert "tone" in (out["review_reason"] or "")
    stale = client.post(
        f"/v1/reviews/{draft_id}/approve",
        json={"acknowledged_flags": ["tone"], "expected_version": 1},
        headers=_reviewer(keys),
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"


def test_edit_must_match_the_channel_schema(
    client: TestClient, keys: dict[Role, str], generate: Callable[..., list[dict[str, Any]]]
) -> None:
    draft_id = generate()[0]["id"]
    for content, field in (
        ({"text": "x", "subject": "y"}, "content.subject"),
        ({"channel": "email", "text": "x"}, "content.channel"),
        ({}, "content.text"),
    ):
        resp = client.post(f"/v1/reviews/{draft_id}/edit", json={"content": content}, headers=_reviewer(keys))
        assert resp.status_code == 422, content
        assert resp.json()["error"]["field"] == field


def test_history_lists_the_whole_trail_in_order(
    client: TestClient, keys: dict[Role, str], generate: Callable[..., list[dict[str, Any]]]
) -> None:
    src = generate()[0]
    draft_id = src["id"]
    body = {"content": {"text": reworded(src["content"]["text"])}}
    assert client.post(f"/v1/reviews/{draft_id}/edit", json=body, headers=_reviewer(keys)).status_code == 200
    for role in (Role.MARKETER, Role.REVIEWER, Role.ADMIN):
        resp = client.get(f"/v1/drafts/{draft_id}/history", headers=auth(keys[role]))
        assert resp.status_code == 200
    events = resp.json()["events"]
    assert [e["kind"] for e in events] == ["generated", "checked", "queued", "edited", "checked", "approved"]
    assert events[-1]["actor"].startswith("key:") and events[0]["at"] <= events[-1]["at"]
    assert client.get(f"/v1/drafts/{draft_id}/history", headers=auth(keys[Role.JOURNEY])).status_code == 403


def test_other_workspaces_drafts_answer_404_and_stay_out_of_the_queue(
    client: TestClient,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    session_factory: sessionmaker[Session],
) -> None:
    draft_id = generate()[0]["id"]
    with write(session_factory) as s:
        create_workspace(s, "other")
    other = make_keys(session_factory, "other")
    assert client.get("/v1/reviews", headers=_reviewer(other)).json()["items"] == []
    for method, path, body in (
        ("post", f"/v1/reviews/{draft_id}/approve", {}),
        ("post", f"/v1/reviews/{draft_id}/reject", {"reason_code": "other"}),
        (
            "post",
            f"/v1/reviews/{draft_id}/edit",
            {"content": {"text": "Northwind Outfitters: hi. Reply STOP to opt out"}},
        ),
        ("get", f"/v1/drafts/{draft_id}/history", None),
    ):
        resp = client.request(method, path, json=body, headers=_reviewer(other))
        assert resp.status_code == 404, path
        assert resp.json()["error"]["code"] == "draft_not_found"


def test_only_reviewers_and_admins_review(
    client: TestClient, keys: dict[Role, str], generate: Callable[..., list[dict[str, Any]]]
) -> None:
    draft_id = generate()[0]["id"]
    for role in (Role.MARKETER, Role.JOURNEY):
        assert client.get("/v1/reviews", headers=auth(keys[role])).status_code == 403
        resp = client.post(f"/v1/reviews/{draft_id}/approve", json={}, headers=auth(keys[role]))
        assert resp.status_code == 403
        assert client.get("/v1/reports/reviews", headers=auth(keys[role])).status_code == 403
    assert client.get("/v1/reviews").status_code == 401
    assert client.get("/v1/reviews", headers=auth(keys[Role.ADMIN])).status_code == 200


def test_report_counts_decisions_reasons_and_edited_phrases_per_prompt_and_channel(
    client: TestClient, keys: dict[Role, str], generate: Callable[..., list[dict[str, Any]]], stage: Stage
) -> None:
    src = generate()[0]
    prompt = f"{src['generator']['prompt_name']}.v{src['generator']['prompt_version']}"
    a, b, c, d = (stage(src["id"]) for _ in range(4))
    client.post(f"/v1/reviews/{a}/approve", json={}, headers=_reviewer(keys))
    client.post(f"/v1/reviews/{b}/reject", json={"reason_code": "off_brand"}, headers=_reviewer(keys))
    client.post(f"/v1/reviews/{c}/reject", json={"reason_code": "off_brand"}, headers=_reviewer(keys))
    edited = src["content"]["text"].replace(OPENING, "Chosen for your order")
    resp = client.post(f"/v1/reviews/{d}/edit", json={"content": {"text": edited}}, headers=_reviewer(keys))
    assert resp.status_code == 200 and resp.json()["status"] == "approved"
    report = client.get("/v1/reports/reviews", headers=_reviewer(keys)).json()
    overall = report["overall"]
    assert (overall["reviewed"], overall["approved"], overall["rejected"], overall["edited"]) == (4, 2, 2, 1)
    assert overall["approval_rate"] == 0.5
    assert overall["top_reject_reasons"] == [{"reason_code": "off_brand", "count": 2}]
    assert overall["top_edited_phrases"][0] == {"phrase": "Goes with", "count": 1, "replacements": ["Chosen for"]}
    assert [(g["prompt"], g["channel"]) for g in report["groups"]] == [(prompt, "sms")]
    empty = client.get("/v1/reports/reviews", params={"channel": "email"}, headers=_reviewer(keys)).json()
    assert empty["overall"]["reviewed"] == 0 and empty["overall"]["approval_rate"] is None
