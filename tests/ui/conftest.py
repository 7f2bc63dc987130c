"""Browser fixtures: Debian's Chromium driven by Playwright, the app on a real uvicorn, signed-in pages."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.review.conftest import generate, review_engine, stage  # noqa: F401  (fixtures for this package)
from tests.review.live import serve

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    path = os.environ.get("COPYLOOM_TEST_CHROMIUM") or shutil.which("chromium")
    return path if path and Path(path).is_file() else None


# Module scope, not session: Playwright's sync API runs an event loop in the main thread while it is open, and any
# test collected after the browser tests that calls asyncio.run() would fail while it stayed open.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if not path:
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def live_url(app: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    request.getfixturevalue("review_engine")  # the app's content engine: fast embedder, offline generator
    with serve(app) as base:
        yield base


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context per test; every JavaScript dialog is recorded (and dismissed)."""
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"ui-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/ui/")
    assert "/ui/signin" in page.url
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/ui/")
