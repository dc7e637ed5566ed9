"""Playwright driving Debian's Chromium (never a downloaded browser) against ``live_server``."""

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for a module's tests.

    Playwright's sync API keeps an event loop running in this thread, and Django refuses ORM calls
    from a thread with a running loop; the tests' own ORM calls are synchronous, so allowing them
    is safe, and only for as long as the browser is open.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            yield browser
            browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser tab (no cookies) whose relative URLs go to the live test server."""
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()
