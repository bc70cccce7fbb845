"""Playwright driving Debian's Chromium (never a downloaded browser) against live_server.

Without /usr/bin/chromium these tests skip on a laptop, with the reason, and fail under
CI=true (.ci/run installs the package).

Every browser test is also a Content-Security-Policy test: the `chromium` it is given
watches each page it opens, and a single violation fails the test (see csp_watch.py).
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser.csp_watch import CspWatchedBrowser
from tests.conftest import IN_CI

# live_server runs the app in a thread beside Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def session_browser():
    """The one Chromium process; tests take `chromium`, which watches what they open."""
    if not CHROMIUM.exists():
        reason = "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def chromium(session_browser):
    """The browser, for one test: it closes the test's contexts, then fails the test if any
    page in them broke the Content-Security-Policy (or the browser could not read our
    Permissions-Policy). A test that provokes a violation on purpose takes it out of
    `chromium.violations`."""
    watched = CspWatchedBrowser(session_browser)
    yield watched
    violations = watched.close_all()
    if violations:
        pytest.fail("Browser policy violations:\n" + "\n".join(violations))


@pytest.fixture
def demo_site(live_server, transactional_db):
    call_command("seed_demo")
    return live_server.url


@pytest.fixture
def sign_in(chromium, demo_site):
    """Open a page signed in as `username`, at desktop (default) or phone size."""

    def open_as(username: str, *, viewport=DESKTOP):
        context = chromium.new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{demo_site}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("casedesk")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/cases/")
        return page

    return open_as
