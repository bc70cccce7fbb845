"""Staff sign-in is throttled (django-axes, wired in casedesk/signin.py): per username and
per address, a cool-off that grows, the same answer for accounts that do not exist, and
one email to the owner per lock-out."""

import re
import time
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import AccessEvent, AccessKind
from casedesk.models import Notification

LIMIT = 10  # the default of CASEDESK_SIGNIN_FAILURE_LIMIT
LOCK_OUT_PAGE = "Sign-in paused"
WRONG = "not-the-password"


def attempt(client, username, password=WRONG, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def fail(client, username, times, **extra):
    return [attempt(client, username, **extra) for _ in range(times)]


def signed_in(response) -> bool:
    return response.status_code == 302 and response.url == "/"


@pytest.fixture
def at_nine():
    with time_machine.travel(timezone.now().replace(hour=9, minute=0, second=0), tick=False):
        yield


def test_ten_wrong_passwords_lock_the_account_and_then_the_right_one_fails(client, joanne, at_nine):
    answers = fail(client, "joanne", LIMIT)
    right_password = attempt(client, "joanne", "casedesk")

    assert [answer.status_code for answer in answers[:-1]] == [200] * (LIMIT - 1)
    assert answers[-1].status_code == 429  # the failure that reaches the limit is told at once
    assert right_password.status_code == 429
    assert LOCK_OUT_PAGE in right_password.content.decode()
    assert "09:15" in right_password.content.decode()  # when to try again
    assert "_auth_user_id" not in client.session


def test_nine_wrong_passwords_do_not_lock_the_account(client, joanne):
    fail(client, "joanne", LIMIT - 1)

    assert signed_in(attempt(client, "joanne", "casedesk"))


def test_the_limit_comes_from_the_environment(client, joanne):
    with override_settings(AXES_FAILURE_LIMIT=3):
        answers = fail(client, "joanne", 3)

    assert [answer.status_code for answer in answers] == [200, 200, 429]


def test_after_the_cool_off_the_right_password_works_again(client, joanne, at_nine):
    fail(client, "joanne", LIMIT)

    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=False):
        assert attempt(client, "joanne", "casedesk").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1), tick=False):
        assert signed_in(attempt(client, "joanne", "casedesk"))


def test_attempts_during_a_lock_out_are_refused_without_extending_it(client, joanne, at_nine):
    fail(client, "joanne", LIMIT)
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=False):
        refused = fail(client, "joanne", 5)
    counted = sum(AccessAttempt.objects.values_list("failures_since_start", flat=True))

    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1), tick=False):
        assert signed_in(attempt(client, "joanne", "casedesk"))
    assert {answer.status_code for answer in refused} == {429}
    assert counted == LIMIT
    assert AccessEvent.objects.filter(kind=AccessKind.SIGN_IN_REFUSED).count() == 5


def test_each_repeated_lock_out_doubles_the_cool_off(client, joanne):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for minutes in (15, 30, 60, 120):
            fail(client, "joanne", LIMIT)
            locked_at = timezone.now()

            clock.move_to(locked_at + timedelta(minutes=minutes))
            still_locked = attempt(client, "joanne", "casedesk")
            clock.move_to(locked_at + timedelta(minutes=minutes, seconds=1))
            unlocked = attempt(client, "joanne", "casedesk")
            client.logout()

            assert still_locked.status_code == 429, minutes
            assert signed_in(unlocked), minutes


@override_settings(CASEDESK_SIGNIN_COOLOFF_MAX_HOURS=1)
def test_the_cool_off_stops_growing_at_the_maximum(client, joanne):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(4):
            fail(client, "joanne", LIMIT)
            clock.shift(timedelta(hours=1, seconds=1))

    cool_offs = AccessEvent.objects.filter(kind=AccessKind.LOCKED_OUT).order_by("at")
    assert [event.cool_off for event in cool_offs] == [
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


def test_a_run_of_lock_outs_is_forgotten_a_day_after_the_last(client, joanne):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        fail(client, "joanne", LIMIT)
        clock.shift(timedelta(minutes=15, seconds=1))
        fail(client, "joanne", LIMIT)
        clock.shift(timedelta(minutes=30) + timedelta(hours=24, seconds=1))
        fail(client, "joanne", LIMIT)

    cool_offs = AccessEvent.objects.filter(kind=AccessKind.LOCKED_OUT).order_by("at")
    assert [event.cool_off.seconds // 60 for event in cool_offs] == [15, 30, 15]


def _same_page(first: bytes, second: bytes, *typed: str) -> tuple[str, str]:
    """The two pages with what legitimately differs blanked: the CSRF token and the
    username each request typed (the form shows it back)."""

    def blank(page: bytes, username: str) -> str:
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", page.decode())
        return text.replace(f'value="{username}"', 'value="TYPED"')

    return blank(first, typed[0]), blank(second, typed[1])


def test_an_unknown_username_is_answered_exactly_as_a_known_one(joanne, at_nine):
    known, unknown = Client(), Client()

    known_answers = fail(known, "joanne", LIMIT + 1)
    unknown_answers = fail(unknown, "joanna", LIMIT + 1, REMOTE_ADDR="127.0.0.2")

    for known_answer, unknown_answer in zip(known_answers, unknown_answers, strict=True):
        assert known_answer.status_code == unknown_answer.status_code
        assert known_answer.headers.keys() == unknown_answer.headers.keys()
        pages = _same_page(known_answer.content, unknown_answer.content, "joanne", "joanna")
        assert pages[0] == pages[1]
    assert known_answers[-1].status_code == 429


def test_the_owner_is_emailed_once_per_lock_out(client, joanne, at_nine):
    fail(client, "joanne", LIMIT + 5)  # five more while locked out: no more mail
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        fail(client, "joanne", LIMIT + 5)  # the second lock-out

    mails = Notification.objects.filter(recipient_email=joanne.user.email).order_by("id")
    assert mails.count() == 2
    first = mails.first()
    assert first.case is None
    assert "paused until 09:15" in first.body
    assert "joanne" in first.body


def test_nobody_is_emailed_for_a_username_that_is_no_account(client, org, at_nine):
    fail(client, "joanna", LIMIT + 1)

    assert not Notification.objects.exists()
    assert AccessEvent.objects.filter(kind=AccessKind.LOCKED_OUT, username="joanna").exists()


def test_a_lock_out_by_address_does_not_lock_the_accounts_tried(client, joanne, maria, at_nine):
    """Ten usernames tried once each from one address: that address is paused, the people
    whose usernames were tried are not emailed, and they can still sign in elsewhere."""
    for number in range(LIMIT - 1):
        attempt(client, f"guess{number}")
    locking = attempt(client, "maria")

    assert locking.status_code == 429
    assert attempt(client, "joanne", "casedesk").status_code == 429
    assert not Notification.objects.exists()
    assert signed_in(attempt(Client(REMOTE_ADDR="10.0.0.7"), "maria", "casedesk"))
    [lock_out] = AccessEvent.objects.filter(kind=AccessKind.LOCKED_OUT)
    assert lock_out.detail == "address"


@override_settings(CASEDESK_BEHIND_TLS_PROXY=True)
def test_behind_the_proxy_the_forwarded_address_is_the_one_counted(joanne, at_nine):
    through_proxy = Client(REMOTE_ADDR="10.0.0.1")
    spoofed = "198.51.100.1, 203.0.113.9"  # the client's own claim, then what the proxy saw

    fail(through_proxy, "nobody", LIMIT, HTTP_X_FORWARDED_FOR=spoofed)
    from_elsewhere = attempt(
        through_proxy, "joanne", "casedesk", HTTP_X_FORWARDED_FOR="203.0.113.10"
    )
    from_there = attempt(through_proxy, "joanne", "casedesk", HTTP_X_FORWARDED_FOR=spoofed)

    assert signed_in(from_elsewhere)  # the proxy's own address is not what was locked
    assert from_there.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    failed = AccessEvent.objects.filter(kind=AccessKind.SIGN_IN_FAILED)
    assert set(failed.values_list("address", flat=True)) == {"203.0.113.9"}


def test_the_admin_sign_in_is_the_same_throttled_door(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/admin/"


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"])
def test_an_unknown_username_takes_about_as_long_as_a_known_one(joanne):
    """With the production hasher: a wrong password for an account runs the hasher, and so
    does one for a username that is no account (a generous bound: without it, the unknown
    one would answer about a hundred times sooner)."""
    joanne.user.set_password("casedesk")
    joanne.user.save()

    known_client, unknown_client = Client(REMOTE_ADDR="192.0.2.1"), Client(REMOTE_ADDR="192.0.2.2")
    known, unknown = [], []
    for _ in range(5):  # taken in turn, so a busy machine slows both alike
        for client, times, username in (
            (known_client, known, "joanne"),
            (unknown_client, unknown, "joanna"),
        ):
            started = time.perf_counter()
            attempt(client, username)
            times.append(time.perf_counter() - started)
    known, unknown = min(known), min(unknown)  # the least disturbed of each

    assert 1 / 3 < unknown / known < 3, (known, unknown)
