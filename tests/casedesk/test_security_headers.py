"""Every response tells the browser what the page may do: the Content-Security-Policy, the
Referrer-Policy, the Permissions-Policy, the Cross-Origin-Opener-Policy and no framing.

The report-only switch is read once at start-up, so it is checked in fresh processes."""

import pytest

from tests.casedesk.test_settings import manage

POLICY = [
    "default-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
]


def directives(header: str) -> set[str]:
    return {part.strip() for part in header.split(";")}


def assert_browser_policies(response):
    assert directives(response["Content-Security-Policy"]) == set(POLICY)
    assert "Content-Security-Policy-Report-Only" not in response
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = response["Permissions-Policy"]
    for feature in ["camera", "microphone", "geolocation", "payment", "usb"]:
        assert f"{feature}=()" in permissions


@pytest.mark.parametrize("path", ["/accounts/login/", "/status/sign-in/"])
def test_every_page_carries_the_browser_policies_and_refuses_framing(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert_browser_policies(response)
    assert response["X-Frame-Options"] == "DENY"  # for browsers older than frame-ancestors


def test_static_files_served_by_whitenoise_carry_the_policies_too(client):
    response = client.get("/static/css/casedesk.css")

    assert response.status_code == 200
    assert_browser_policies(response)


def test_a_signed_in_page_carries_the_policy_too(client, joanne):
    client.force_login(joanne.user)

    response = client.get("/cases/")

    assert response.status_code == 200
    assert_browser_policies(response)


SHOW_HEADERS = """
from django.test import Client
response = Client().get("/accounts/login/", HTTP_HOST="localhost")
for name in ("Content-Security-Policy", "Content-Security-Policy-Report-Only"):
    print(f"{name}: {response.headers.get(name)}")
"""


def served_policies(tmp_path, **env: str) -> dict[str, str]:
    result = manage(
        "shell", "-c", SHOW_HEADERS, DJANGO_DEBUG="1", CASEDESK_VAR_DIR=str(tmp_path), **env
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()[-2:]
    return dict(line.split(": ", 1) for line in lines)


def test_report_only_mode_sends_the_same_policy_under_the_report_only_header(tmp_path):
    served = served_policies(tmp_path, CASEDESK_CSP_REPORT_ONLY="1")

    assert served["Content-Security-Policy"] == "None"
    assert directives(served["Content-Security-Policy-Report-Only"]) == set(POLICY)


def test_the_policy_is_enforced_unless_report_only_is_asked_for(tmp_path):
    served = served_policies(tmp_path, CASEDESK_CSP_REPORT_ONLY="0")

    assert directives(served["Content-Security-Policy"]) == set(POLICY)
    assert served["Content-Security-Policy-Report-Only"] == "None"


def test_a_report_address_is_added_to_the_policy_when_set(tmp_path):
    served = served_policies(
        tmp_path,
        CASEDESK_CSP_REPORT_URI="https://reports.example/csp",
        CASEDESK_CSP_REPORT_ONLY="1",
    )

    policy = directives(served["Content-Security-Policy-Report-Only"])
    assert policy == {*POLICY, "report-uri https://reports.example/csp"}


def test_a_malformed_report_only_switch_stops_start_up_with_its_name(tmp_path):
    result = manage("check", DJANGO_DEBUG="1", CASEDESK_CSP_REPORT_ONLY="sometimes")

    assert result.returncode != 0
    assert "CASEDESK_CSP_REPORT_ONLY='sometimes' is not a boolean" in result.stderr
