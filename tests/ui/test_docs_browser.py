"""/docs and /redoc in a real browser with every request to anything but the app refused: the reference renders
its operations, a request body example and the error envelope from the app's own assets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.review.live import serve
from tests.ui.conftest import shot

pytestmark = pytest.mark.browser


@pytest.fixture
def offline(page: Any, app: Any) -> Iterator[tuple[Any, str, list[str]]]:
    """The page, the app's base URL and the list of requests made elsewhere (each one aborted)."""
    elsewhere: list[str] = []
    with serve(app) as base:

        def gate(route: Any) -> None:
            if route.request.url.startswith(f"{base}/"):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        page.context.route("**/*", gate)
        yield page, base, elsewhere


def test_swagger_ui_shows_operations_examples_and_the_error_envelope_offline(
    offline: tuple[Any, str, list[str]],
) -> None:
    page, base, elsewhere = offline
    page.goto(f"{base}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert len(paths) >= 40 and "/v1/consents" in " ".join(paths)
    consents = page.locator(".opblock-post").filter(has=page.locator("[data-path='/v1/consents']")).first
    consents.locator(".opblock-summary").click()
    body_example = consents.locator(".opblock-section-request-body .microlight").first
    body_example.wait_for(timeout=20_000)
    assert '"purpose": "marketing"' in body_example.inner_text() and "checkout-form" in body_example.inner_text()
    responses = consents.locator(".responses-table").first.inner_text()
    assert all(status in responses for status in ("401", "403", "413", "422"))
    assert '"error"' in responses and "invalid_input" in responses and '"detail"' not in responses
    shot(page, "docs-swagger")
    assert elsewhere == []


def test_redoc_renders_offline(offline: tuple[Any, str, list[str]]) -> None:
    page, base, elsewhere = offline
    page.goto(f"{base}/redoc")
    page.locator("h2", has_text="Record consent decisions").first.wait_for(timeout=30_000)
    assert page.locator("h2").count() >= 40
    assert "checkout-form" in page.locator("body").inner_text()  # the consent example
    assert elsewhere == []
