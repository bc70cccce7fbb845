"""Every page anyone can reach by following links, as each kind of person, at phone and
desktop width: the served HTML has no inline script or style, and the browser sees no
Content-Security-Policy violation (the `chromium` fixture fails the test on any)."""

import re
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import expect

from casedesk.models import Case
from casedesk.status_links import status_token
from tests.browser.conftest import DESKTOP, PHONE

# Links that are not pages to read: assets, and signing out (which would end the walk).
NOT_PAGES = re.compile(r"^/(static/|admin/logout/|admin/r/|admin/jsi18n/|status/sign-out/)")
# Every link's address, the dashboard's SVG chart links (whose .href is no string) too.
LINKS = "links => links.map(a => new URL(a.getAttribute('href'), document.baseURI).href)"
PEOPLE = ["joanne", "maria", "lee", "devon", "priya", "sam", "admin"]


class InlineCode(HTMLParser):
    """What a strict policy refuses in served HTML: script and style not in a file."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append(f"<script> without src at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> at line {self.getpos()[0]}")
        for name in sorted(names):
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def page_kind(url: str) -> str:
    """One visit per kind of page. Each case is its own kind (its state decides what its
    page offers); elsewhere, pages that differ only by a number are one kind (a day of the
    dashboard's chart, an admin record of one model), and the admin's sorting and
    filtering links, its history and its delete pages are the same page for any model."""
    parts = urlsplit(url)
    if parts.path.startswith("/cases/"):
        return f"{parts.path}?{parts.query}"
    path = re.sub(r"\d+", "N", parts.path)
    if path.startswith("/admin/"):
        return re.sub(r"^/admin/.*/(history|delete)/$", r"/admin/\1", path)
    return f"{path}?{parts.query}"


def walk(page, site: str, start: list[str]) -> list[str]:
    """Open every page of the site reachable by links from `start`; return their paths."""
    queue = [site + path for path in start]
    seen, opened = set(), []
    while queue:
        url = queue.pop(0)
        if page_kind(url) in seen:
            continue
        seen.add(page_kind(url))
        response = page.goto(url)
        assert response.ok, f"{url} answered {response.status}"
        assert inline_code(response.text()) == [], url
        opened.append(urlsplit(page.url).path)
        for href in page.eval_on_selector_all("a[href]", LINKS):
            href = urldefrag(href).url
            if href.startswith(site) and not NOT_PAGES.match(urlsplit(href).path):
                queue.append(href)
    return opened


def sign_in_as(page, site: str, username: str) -> None:
    page.goto(f"{site}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("casedesk")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def page(request, chromium):
    page = chromium.new_context(viewport=request.param).new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.mark.parametrize("username", PEOPLE)
def test_every_page_a_person_can_reach_keeps_to_the_policy(page, demo_site, username):
    sign_in_as(page, demo_site, username)

    opened = walk(page, demo_site, ["/", "/admin/"] if username == "admin" else ["/"])

    assert len(opened) > 3, opened  # the walk went somewhere: a queue, cases, the admin


def test_every_page_a_visitor_can_reach_keeps_to_the_policy(page, demo_site):
    status_pages = [f"/status/{status_token(case)}/" for case in Case.objects.all()]

    opened = walk(page, demo_site, ["/accounts/login/", "/status/sign-in/", *status_pages])

    assert len(opened) >= 2 + len(status_pages)


def test_the_policy_blocks_inline_script_and_style_and_the_watch_reports_it(chromium, demo_site):
    page = chromium.new_context().new_page()
    page.goto(f"{demo_site}/accounts/login/")

    page.evaluate(
        """() => {
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.head.append(script);
        const style = document.createElement('style');
        style.textContent = 'body { display: none }';
        document.head.append(style);
    }"""
    )

    page.wait_for_function("window.__cspViolations.length === 2")
    assert page.evaluate("window.injected") is None  # the script did not run
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()  # the style did not apply
    directives = " ".join(chromium.violations)
    assert "script-src-elem refused inline" in directives
    assert "style-src-elem refused inline" in directives
    chromium.violations.clear()  # seen, and expected: the fixture must not fail this test
