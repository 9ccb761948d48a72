"""Real Chromium, driven through Playwright's sync API, for the web widget tests.

The server under test comes from the ``live_server_url`` fixture in ``tests/conftest.py``.
pytest-playwright is not used, so the launch options live here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path(os.environ.get("HELPDESK_CHROMIUM", "/usr/bin/chromium"))
# Headless and quiet: no sandbox (containers), no GPU, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


# Module scope, not session: while sync_playwright() is open it keeps an asyncio loop running
# on the main thread, and every async test collected after it would fail with "Runner.run()
# cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium, "
            "set HELPDESK_CHROMIUM, or deselect with -m 'not browser'"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # A fresh context per test: its own localStorage, so its own conversation.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()
