"""In Chromium: approving says what was approved (with a link back) before the next draft, and the history names
the reviewer by the key's label; offline drafts carry their banner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.db import write
from copyloom.domain.workspaces import create_key
from copyloom.models import Draft
from tests.review.conftest import Stage
from tests.ui.conftest import shot, sign_in

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect


def test_approve_and_reject_are_confirmed_and_the_history_names_the_reviewer(
    page: Any,
    live_url: str,
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
    workspace: str,
) -> None:
    first = generate()[0]["id"]
    with write(session_factory) as s:
        row = s.get(Draft, first)
        assert row is not None
        priority = row.review_priority
        key = create_key(s, workspace, Role.REVIEWER, "Dana Lee").key
    second = stage(first, status="pending_review", priority=priority, age_minutes=-1)

    sign_in(page, live_url, key)
    expect(page.locator("#who-name")).to_have_text("Dana Lee")
    page.goto(f"{live_url}/ui/drafts/{first}")
    expect(page.locator("#offline-banner")).to_contain_text("offline template, no model")
    page.click("#approve")
    page.wait_for_url(f"**/ui/drafts/{second}**")
    confirmation = page.locator("#confirmation")
    expect(confirmation).to_be_visible()
    expect(confirmation).to_contain_text("Approved: the SMS draft for Emma Carter (C1001).")
    expect(confirmation).to_contain_text("showing the next pending draft")
    shot(page, "07-approve-confirmed")

    page.select_option("#reason", "off_brand")
    page.click("#reject")
    page.wait_for_url("**/ui/?**")
    expect(page.locator("#confirmation")).to_contain_text("Rejected: the SMS draft for Emma Carter (C1001).")

    page.goto(f"{live_url}/ui/drafts/{first}")
    approved = page.locator("#history li.k-approved .actor")
    expect(approved).to_have_text("Dana Lee")
    assert page.locator("#status").inner_text() == "approved"
    assert page.dialogs == []
