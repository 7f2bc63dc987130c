"""Script in customer names, notes, draft copy, comments and edits shows as text on every page and never runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.models import Customer, Draft
from tests.conftest import auth
from tests.review.conftest import Stage
from tests.ui.conftest import shot, sign_in

pytestmark = pytest.mark.browser

NAME = '<script>alert("name")</script><img src=x onerror=alert("name-img")>'
NOTE = "Loves tents <img src=x onerror=alert('note')> </td></tr><script>alert('note2')</script>"
COPY = "\"'><svg onload=alert('copy')>"
COMMENT = "<iframe src=javascript:alert('comment')></iframe>"
PHRASE = "<b onmouseover=alert('edit')>Finish</b>"
# Anything an injection would leave behind in the DOM.
ACTIVE = "script:not([src]), img[src='x'], svg[onload], iframe, [onerror], [onload], [onmouseover]"


def _assert_inert(page: Any, *payloads: str) -> None:
    assert page.locator(ACTIVE).count() == 0
    text = page.locator("body").inner_text()
    for payload in payloads:
        assert payload in text, payload
    assert page.dialogs == []


def test_payloads_render_as_text_on_every_page(
    page: Any,
    client: Any,
    live_url: str,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
    workspace: str,
) -> None:
    src = generate()[0]
    text = src["content"]["text"]
    with write(session_factory) as s:
        s.execute(
            update(Customer)
            .where(Customer.workspace_id == workspace, Customer.external_id == "C1001")
            .values(name=NAME)
        )
    hostile = stage(
        src["id"],
        {"text": text.replace("Goes with your order", "GOES WITH YOUR ORDER " + COPY)},
        status="pending_review",
    )
    with write(session_factory) as s:
        draft = s.get(Draft, hostile)
        assert draft is not None
        note = {
            "id": "note:evil",
            "kind": "note",
            "text": NOTE,
            "values": {},
            "source": {"table": "notes", "row_id": "1", "workspace_id": workspace, "customer_id": "C1001"},
            "untrusted": True,
        }
        draft.bundle = {**draft.bundle, "facts": [*draft.bundle["facts"], note]}
        draft.cited_fact_ids = [*draft.cited_fact_ids, "note:evil"]
    rejected = stage(src["id"])
    headers = auth(keys[Role.REVIEWER])
    resp = client.post(
        f"/v1/reviews/{rejected}/reject", json={"reason_code": "other", "comment": COMMENT}, headers=headers
    )
    assert resp.status_code == 200
    edited = stage(src["id"])
    resp = client.post(
        f"/v1/reviews/{edited}/edit", json={"content": {"text": text.replace("Goes", PHRASE, 1)}}, headers=headers
    )
    assert resp.status_code == 200, resp.text

    sign_in(page, live_url, keys[Role.REVIEWER])
    _assert_inert(page, NAME, COPY)
    shot(page, "xss-queue")

    page.goto(f"{live_url}/ui/drafts/{hostile}")
    _assert_inert(page, NAME, COPY, NOTE)
    assert page.locator("#preview mark.ev").count() >= 1  # highlighting still works around hostile text
    page.keyboard.press("e")
    assert COPY in page.locator("textarea[name='f:text']").input_value()
    shot(page, "xss-draft")

    page.goto(f"{live_url}/ui/drafts/{rejected}")
    _assert_inert(page, COMMENT)
    page.goto(f"{live_url}/ui/drafts/{edited}")
    _assert_inert(page, PHRASE)
    page.goto(f"{live_url}/ui/reports")
    _assert_inert(page, PHRASE)
    shot(page, "xss-reports")
