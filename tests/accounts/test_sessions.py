"""A password sign-in ends when idle too long and at a maximum age; a person can end their
other sessions, and a password change ends them too."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import AccessEvent, AccessKind


def signed_in_by_form(username: str, password: str = "casedesk") -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def still_signed_in(client) -> bool:
    return client.get("/cases/").status_code == 200


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_a_sign_in_idle_for_an_hour_ends(joanne, clock):
    client = signed_in_by_form("joanne")

    clock.shift(timedelta(minutes=59))
    active_before = still_signed_in(client)
    clock.shift(timedelta(minutes=59))
    active_again = still_signed_in(client)
    clock.shift(timedelta(minutes=60))
    response = client.get("/cases/", follow=True)

    assert active_before
    assert active_again
    assert response.redirect_chain[0][0].startswith("/accounts/login/")
    assert "signed out after 60 minutes without activity" in response.content.decode()
    expired = AccessEvent.objects.get(kind=AccessKind.SESSION_EXPIRED)
    assert (expired.user, expired.detail) == (joanne.user, "idle")


def test_a_sign_in_ends_after_twelve_hours_however_active(joanne, clock):
    client = signed_in_by_form("joanne")

    for _ in range(23):
        clock.shift(timedelta(minutes=30))
        assert still_signed_in(client)
    clock.shift(timedelta(minutes=30))  # twelve hours after signing in

    assert not still_signed_in(client)


@override_settings(CASEDESK_SESSION_IDLE_MINUTES=5, CASEDESK_SESSION_MAX_HOURS=1)
def test_both_limits_come_from_the_settings(joanne, clock):
    idle, busy = signed_in_by_form("joanne"), signed_in_by_form("joanne")
    for _ in range(14):
        clock.shift(timedelta(minutes=4))
        assert still_signed_in(busy)
    clock.shift(timedelta(minutes=4))  # an hour after signing in

    assert not still_signed_in(idle)
    assert not still_signed_in(busy)


def test_sessions_signed_in_by_the_test_client_get_the_same_limits(joanne, client, clock):
    client.force_login(joanne.user)
    assert still_signed_in(client)

    clock.shift(timedelta(minutes=61))

    assert not still_signed_in(client)


def test_client_contacts_with_a_password_get_the_same_limits(org, clock):
    client = signed_in_by_form("sam")
    assert client.get("/status/").status_code == 200

    clock.shift(timedelta(minutes=61))

    assert client.get("/status/").status_code == 302


def test_signing_out_other_sessions_ends_them_and_keeps_this_one(joanne):
    laptop, phone, desk = (signed_in_by_form("joanne") for _ in range(3))
    maria_elsewhere = signed_in_by_form("maria")

    page = desk.get("/accounts/security/")
    response = desk.post("/accounts/security/sign-out-others", follow=True)

    assert "Sign out my other sessions" in page.content.decode()
    assert "Your other sessions are signed out" in response.content.decode()
    assert still_signed_in(desk)
    assert not still_signed_in(laptop)
    assert not still_signed_in(phone)
    assert still_signed_in(maria_elsewhere)
    assert AccessEvent.objects.filter(
        kind=AccessKind.OTHER_SESSIONS_ENDED, user=joanne.user
    ).exists()


def test_signing_out_other_sessions_takes_a_post(joanne, client):
    client.force_login(joanne.user)

    assert client.get("/accounts/security/sign-out-others").status_code == 405


def test_signing_out_other_sessions_needs_the_csrf_token(joanne):
    client = Client(enforce_csrf_checks=True)
    client.force_login(joanne.user)

    assert client.post("/accounts/security/sign-out-others").status_code == 403


def test_the_security_page_needs_a_sign_in(client):
    response = client.get("/accounts/security/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(joanne):
    laptop, desk = signed_in_by_form("joanne"), signed_in_by_form("joanne")

    form = desk.get("/accounts/password/")
    response = desk.post(
        "/accounts/password/",
        {
            "old_password": "casedesk",
            "new_password1": "a-long-new-passphrase-7",
            "new_password2": "a-long-new-passphrase-7",
        },
        follow=True,
    )

    assert form.status_code == 200
    assert "Change password" in form.content.decode()
    assert "Password changed" in response.content.decode()
    assert still_signed_in(desk)
    assert not still_signed_in(laptop)
    assert signed_in_by_form("joanne", "a-long-new-passphrase-7")
    assert AccessEvent.objects.filter(kind=AccessKind.PASSWORD_CHANGED, user=joanne.user).exists()


def test_a_wrong_current_password_changes_nothing(joanne):
    desk = signed_in_by_form("joanne")

    response = desk.post(
        "/accounts/password/",
        {
            "old_password": "wrong",
            "new_password1": "a-long-new-passphrase-7",
            "new_password2": "a-long-new-passphrase-7",
        },
    )

    assert response.status_code == 200
    assert "incorrectly" in response.content.decode()
    assert not AccessEvent.objects.filter(kind=AccessKind.PASSWORD_CHANGED).exists()
    assert signed_in_by_form("joanne", "casedesk")
