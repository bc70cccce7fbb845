"""Fifty wrong passwords at the same instant cannot race past the limit (CVE-2022-35490):
real threads, real PostgreSQL connections, committed transactions."""

import threading

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test import Client

from accounts.models import AccessEvent, AccessKind
from casedesk.models import Notification

LIMIT = 10
PARALLEL = 50


def _all_at_once(count, attempt):
    """Run `attempt(index)` in `count` threads released together; return their answers."""
    barrier = threading.Barrier(count)
    answers = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=10)
            answers[index] = attempt(index)
        except Exception as error:  # anything else is a failure the test must show
            answers[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _wrong_password(index):
    client = Client(REMOTE_ADDR=f"10.1.0.{index + 1}")  # fifty addresses: one username
    response = client.post("/accounts/login/", {"username": "joanne", "password": f"guess{index}"})
    return response.status_code


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_wrong_passwords_check_no_more_than_the_limit(joanne):
    answers = _all_at_once(PARALLEL, _wrong_password)

    assert sorted(answers) == [200] * (LIMIT - 1) + [429] * (PARALLEL - LIMIT + 1), answers
    counted = sum(AccessAttempt.objects.values_list("failures_since_start", flat=True))
    assert counted == LIMIT  # passwords checked: the rest were refused unchecked
    events = AccessEvent.objects.filter(username="joanne")
    assert events.filter(kind=AccessKind.SIGN_IN_FAILED).count() == LIMIT
    assert events.filter(kind=AccessKind.SIGN_IN_REFUSED).count() == PARALLEL - LIMIT
    assert events.filter(kind=AccessKind.LOCKED_OUT).count() == 1
    assert Notification.objects.filter(recipient_email=joanne.user.email).count() == 1
    right = Client().post("/accounts/login/", {"username": "joanne", "password": "casedesk"})
    assert right.status_code == 429


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_attempts_with_the_right_password_among_them_grant_nothing_once_locked(
    joanne,
):
    """The account is locked; fifty attempts arrive together, the right password among
    them: every one is refused."""
    for index in range(LIMIT):
        _wrong_password(index)

    def mixed(index):
        password = "casedesk" if index % 5 == 0 else f"guess{index}"
        client = Client(REMOTE_ADDR=f"10.2.0.{index + 1}")
        return client.post("/accounts/login/", {"username": "joanne", "password": password})

    answers = _all_at_once(PARALLEL, mixed)

    assert [getattr(answer, "status_code", answer) for answer in answers] == [429] * PARALLEL
    assert not AccessEvent.objects.filter(kind=AccessKind.SIGNED_IN).exists()
