"""The reviewer pages in Debian's Chromium: sign in, filter, open, evidence, edit, approve, reject, Chinese."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from copyloom.contracts.enums import Role
from copyloom.models import Draft
from tests.review.conftest import Stage
from tests.ui.conftest import shot, sign_in

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect
OPENING = "Goes with your order"


def _status(session_factory: sessionmaker[Session], draft_id: str) -> str:
    with session_factory() as s:
        row = s.get(Draft, draft_id)
        assert row is not None
        return row.status


def test_reviewer_signs_in_filters_opens_fixes_approves_and_rejects(
    page: Any,
    live_url: str,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    stage: Stage,
    session_factory: sessionmaker[Session],
) -> None:
    sms, _email = generate(channels=("sms", "email"))
    text = sms["content"]["text"]
    shouting = text.replace(OPENING, "GOES WITH YOUR ORDER TODAY")
    to_fix = stage(sms["id"], {"text": shouting}, age_minutes=30)
    to_ack = stage(sms["id"], {"text": shouting}, age_minutes=20)
    to_reject = stage(sms["id"], age_minutes=10, priority=2)

    page.goto(f"{live_url}/ui/")
    shot(page, "01-sign-in")
    sign_in(page, live_url, keys[Role.REVIEWER])
    assert page.locator("tr.qrow").count() == 5
    shot(page, "02-queue")

    # filter: htmx swaps the table and pushes the URL
    page.select_option("#f-channel", "email")
    page.wait_for_url("**channel=email**")
    expect(page.locator("tr.qrow")).to_have_count(1)
    assert page.locator("tr.qrow .chip").inner_text() == "Email"
    page.select_option("#f-channel", "sms")
    expect(page.locator("tr.qrow")).to_have_count(4)

    # the highest priority, oldest flagged draft first; open it with j + Enter
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/drafts/{to_fix}**")
    mark = page.locator("#preview mark.ev")
    assert mark.count() == 1 and mark.inner_text() == "GOES WITH YOUR ORDER TODAY"
    assert mark.get_attribute("data-checks") == "tone"
    assert (
        page.locator("#sms-meta").inner_text().startswith("2 segments · GSM-7")
        or "GSM-7" in page.locator("#sms-meta").inner_text()
    )
    assert page.locator("#facts tr.fact").count() >= 1
    shot(page, "03-draft-flagged")

    # e: edit; the fix passes every check, is approved, and the next pending draft opens
    page.keyboard.press("e")
    area = page.locator("textarea[name='f:text']")
    assert area.evaluate("el => el === document.activeElement")
    area.fill(text.replace(OPENING, "Picked to go with your order"))
    page.click("#save-edit")
    page.wait_for_url(f"**/ui/drafts/{to_ack}**")
    assert _status(session_factory, to_fix) == "approved"

    # a: approve needs the flag acknowledged first (focus moves to the checkbox, nothing is sent)
    page.keyboard.press("a")
    assert page.locator("input[name=ack]").evaluate("el => el === document.activeElement")
    assert _status(session_factory, to_ack) == "pending_review"
    page.check("input[name=ack][value=tone]")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("a")
    page.wait_for_url(f"**/ui/drafts/{to_reject}**")
    assert _status(session_factory, to_ack) == "approved"

    # r: reject with a reason
    page.keyboard.press("r")
    assert page.locator("#reason").evaluate("el => el === document.activeElement")
    page.select_option("#reason", "off_brand")
    page.click("#reject")
    page.wait_for_load_state()
    assert _status(session_factory, to_reject) == "rejected"

    page.goto(f"{live_url}/ui/drafts/{to_fix}")
    kinds = page.locator("#history li.event b").all_inner_texts()
    assert kinds[-3:] == ["edited", "checked", "approved"]
    shot(page, "04-history-after-edit")

    page.goto(f"{live_url}/ui/reports")
    assert "off_brand × 1" in page.locator("#report").inner_text()
    shot(page, "05-reports")
    assert page.dialogs == []


def test_an_edit_with_a_hallucinated_price_is_refused_on_the_page(
    page: Any,
    live_url: str,
    keys: dict[Role, str],
    generate: Callable[..., list[dict[str, Any]]],
    session_factory: sessionmaker[Session],
) -> None:
    draft = generate()[0]
    sign_in(page, live_url, keys[Role.REVIEWER])
    page.goto(f"{live_url}/ui/drafts/{draft['id']}")
    page.keyboard.press("e")
    page.locator("textarea[name='f:text']").fill(draft["content"]["text"].replace("$59.00", "$99.00"))
    page.click("#save-edit")
    page.wait_for_selector("#refused")
    assert "grounding" in page.locator("#refused").inner_text()
    assert "$99.00" in page.locator("textarea[name='f:text']").input_value()  # the reviewer's text is kept
    assert _status(session_factory, draft["id"]) == "pending_review"
    shot(page, "06-edit-refused")


def test_chinese_drafts_render(
    page: Any, live_url: str, keys: dict[Role, str], generate: Callable[..., list[dict[str, Any]]]
) -> None:
    sms, email = generate("C2001", ("sms", "email"))
    sign_in(page, live_url, keys[Role.REVIEWER])
    page.goto(f"{live_url}/ui/drafts/{sms['id']}")
    bubble = page.locator("#preview .bubble")
    assert bubble.inner_text() == sms["content"]["text"] and "回T退订" in bubble.inner_text()
    assert "UCS-2" in page.locator("#sms-meta").inner_text()
    # the glyphs come from a CJK font: wider than a missing-glyph box would make them, and not zero
    width = page.evaluate(
        "() => { const c = document.createElement('canvas').getContext('2d');"
        " c.font = '16px ' + getComputedStyle(document.body).fontFamily;"
        " return [c.measureText('退订').width, c.measureText('\\u{10FFFD}\\u{10FFFD}').width]; }"
    )
    assert width[0] > 20 and width[0] != width[1], width
    shot(page, "07-chinese-sms")
    page.goto(f"{live_url}/ui/drafts/{email['id']}")
    assert page.locator("#preview .subject").inner_text() == email["content"]["subject"]
    shot(page, "08-chinese-email")


def test_a_reviewer_of_another_workspace_sees_nothing_of_this_one(
    page: Any,
    live_url: str,
    generate: Callable[..., list[dict[str, Any]]],
    session_factory: sessionmaker[Session],
) -> None:
    from copyloom.db import write
    from copyloom.domain.workspaces import create_workspace
    from tests.conftest import make_keys

    draft = generate()[0]
    with write(session_factory) as s:
        create_workspace(s, "beta")
    beta = make_keys(session_factory, "beta")
    sign_in(page, live_url, beta[Role.REVIEWER])
    assert page.locator("tr.qrow").count() == 0 and page.locator("#count-pending").inner_text() == "0"
    response = page.goto(f"{live_url}/ui/drafts/{draft['id']}")
    assert response is not None and response.status == 404
    assert draft["content"]["text"] not in page.content()
