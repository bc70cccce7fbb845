"""A supervisor sets up an authenticator app, signs in with it, and spends a recovery code.

The test computes each code from the key the page shows, as the app on a phone would.
"""

import base64
from datetime import timedelta

import time_machine
from django.utils import timezone
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP


def app_code(typed_key: str) -> str:
    """What an authenticator app shows for the key typed into it (base32, grouped)."""
    key = typed_key.replace(" ", "")
    return f"{TOTP(base64.b32decode(key + '=' * (-len(key) % 8))).token():06d}"


def test_maria_enrols_signs_in_with_her_code_and_a_recovery_code_works_once(
    chromium, demo_site, settings
):
    settings.CASEDESK_SECOND_FACTOR_REQUIRED = True
    page = chromium.new_context(viewport=DESKTOP).new_page()
    page.set_default_timeout(10_000)

    def password(then: str):
        page.goto(f"{demo_site}/accounts/login/")
        page.get_by_label("Username").fill("maria")
        page.get_by_label("Password").fill("casedesk")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**/accounts/two-factor/{then}")

    def code(value: str):
        page.get_by_label("Code").fill(value)
        page.get_by_role("button", name="Verify").click()

    def sign_out():
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/accounts/login/**")

    password(then="?next=*")  # a supervisor must set one up before anything else
    expect(page.get_by_role("heading", name="Set up a second factor")).to_be_visible()
    expect(
        page.get_by_role("img", name="A QR code to scan into your authenticator app")
    ).to_be_visible()
    key = page.locator("code.cd-text").inner_text()
    page.get_by_label("Code").fill(app_code(key))
    page.get_by_role("button", name="Confirm").click()
    recovery = page.locator(".cd-recovery-code").all_inner_texts()
    assert len(recovery) == 10
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Cases")).to_be_visible()
    sign_out()

    # A code is good once; the app shows the next one half a minute later.
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        password(then="verify/**")
        code(app_code(key))
        expect(page.get_by_role("heading", name="Cases")).to_be_visible()
    sign_out()

    password(then="verify/**")
    code(recovery[0])
    expect(page.get_by_role("heading", name="Cases")).to_be_visible()
    sign_out()

    password(then="verify/**")
    code(recovery[0])  # used up
    expect(page.get_by_text("That code does not match")).to_be_visible()
