"""Browser tests: the app served on a free port in a background thread, and headless Chromium.

Use in a test module with `from tests.browser_support import browser_page, chromium, live_server  # noqa: F401`
and mark the tests `@pytest.mark.browser`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The test app (same database, Redis and clock as the other fixtures) at the yielded base URL.

    Werkzeug's threaded server also carries the Socket.IO middleware, so /live works too.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


# Each test module that imports `chromium` gets its own copy of the fixture from pytest, but
# Playwright's sync API runs one instance per thread: the first copy starts it, the others share.
_shared: dict = {}


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright, one browser for the whole run."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    if "browser" in _shared:
        yield _shared["browser"]
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        _shared["browser"] = browser
        try:
            yield browser
        finally:
            _shared.pop("browser", None)
            browser.close()


@pytest.fixture
def browser_page(chromium):
    """A fresh browser context (no cookies) with a laptop-sized window; downloads allowed."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()
