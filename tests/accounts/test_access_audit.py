"""Every access event is recorded by one function, and the admin shows the record read-only;
administrators see sign-in lock-outs in the admin and clear them there."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.audit import access_record
from accounts.models import AccessEvent, AccessKind, User

LIMIT = 10


@pytest.fixture
def admin_user(org):
    return User.objects.create_superuser("admin", "admin@casedesk.example", "casedesk")


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def sign_in(username, password, **extra):
    client = Client(HTTP_USER_AGENT="Firefox/140 " + "x" * 400, **extra)
    client.post("/accounts/login/", {"username": username, "password": password})
    return client


def test_sign_ins_failures_and_lock_outs_are_recorded_with_who_when_and_where(joanne):
    sign_in("joanne", "casedesk", REMOTE_ADDR="192.0.2.4")
    for _ in range(LIMIT + 1):
        sign_in("joanne", "wrong", REMOTE_ADDR="192.0.2.5")

    events = AccessEvent.objects.order_by("id")
    assert [event.kind for event in events] == [
        AccessKind.SIGNED_IN,
        *[AccessKind.SIGN_IN_FAILED] * LIMIT,
        AccessKind.LOCKED_OUT,
        AccessKind.SIGN_IN_REFUSED,
    ]
    signed_in = events.first()
    assert (signed_in.user, signed_in.username, signed_in.address) == (
        joanne.user,
        "joanne",
        "192.0.2.4",
    )
    assert signed_in.user_agent.startswith("Firefox/140")
    assert len(signed_in.user_agent) == 255
    assert {event.address for event in events[1:]} == {"192.0.2.5"}


def test_a_username_that_is_no_account_is_recorded_as_typed(org):
    sign_in("Joanne ", "casedesk")

    [failed] = AccessEvent.objects.all()
    assert (failed.kind, failed.user, failed.username) == (
        AccessKind.SIGN_IN_FAILED,
        None,
        "Joanne",  # as the sign-in form cleaned it: surrounding spaces dropped
    )


def test_second_factor_events_are_recorded_the_same_way(joanne):
    """For the second factor (next): its events go through the same function."""
    now = timezone.now()
    for kind in (
        AccessKind.SECOND_FACTOR_ENROLLED,
        AccessKind.RECOVERY_CODE_USED,
        AccessKind.SECOND_FACTOR_RESET,
    ):
        access_record(kind=kind, user=joanne.user, now=now, detail="device 1")

    assert list(AccessEvent.objects.values_list("kind", "username", "at")) == [
        (kind, "joanne", now)
        for kind in (
            AccessKind.SECOND_FACTOR_RESET,
            AccessKind.RECOVERY_CODE_USED,
            AccessKind.SECOND_FACTOR_ENROLLED,
        )
    ]


def test_the_admin_lists_access_events_searchable_and_filterable(admin_client, joanne):
    sign_in("joanne", "casedesk")
    sign_in("nobody", "wrong")
    changelist = reverse("admin:accounts_accessevent_changelist")

    everything = admin_client.get(changelist).content.decode()
    searched = admin_client.get(changelist, {"q": "nobody"}).content.decode()
    filtered = admin_client.get(changelist, {"kind__exact": "signed_in"}).content.decode()

    assert "nobody" in everything
    assert "Signed in" in everything
    assert "nobody" in searched
    assert "Signed in</td>" not in searched
    assert "nobody" not in filtered.split("result_list")[1]
    today = timezone.localdate()
    by_date = admin_client.get(changelist, {"at__year": today.year, "at__month": today.month})
    assert by_date.status_code == 200


def test_the_admin_cannot_add_change_or_delete_access_events(admin_client, joanne):
    sign_in("joanne", "casedesk")
    event = AccessEvent.objects.get(username="joanne")
    page = reverse("admin:accounts_accessevent_change", args=[event.pk])

    viewed = admin_client.get(page)
    admin_client.post(page, {"username": "someone-else"})
    added = admin_client.get(reverse("admin:accounts_accessevent_add"))
    deleted = admin_client.post(
        reverse("admin:accounts_accessevent_delete", args=[event.pk]), {"post": "yes"}
    )

    assert viewed.status_code == 200
    assert added.status_code == 403
    assert deleted.status_code == 403
    assert AccessEvent.objects.get(pk=event.pk).username == "joanne"


def test_the_admin_lists_lock_outs_and_clearing_one_lets_the_owner_sign_in(admin_client, joanne):
    for _ in range(LIMIT):
        sign_in("joanne", "wrong")
    attempts = reverse("admin:axes_accessattempt_changelist")

    listed = admin_client.get(attempts, {"locked_out": "yes"}).content.decode()
    cleared = admin_client.post(
        attempts,
        {
            "action": "delete_selected",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    after = Client().post("/accounts/login/", {"username": "joanne", "password": "casedesk"})

    assert "joanne" in listed
    assert "Locked Out" in listed
    assert cleared.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert after.status_code == 302


def test_the_admin_action_that_cleans_up_expired_attempts_works(admin_client, joanne):
    sign_in("joanne", "wrong")
    attempts = reverse("admin:axes_accessattempt_changelist")

    response = admin_client.post(
        attempts,
        {
            "action": "cleanup_expired_attempts",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )

    assert response.status_code == 200
    assert AccessAttempt.objects.count() == 1  # not expired yet: kept
