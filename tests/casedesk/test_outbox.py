import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts.models import User
from casedesk.models import Notification, NotificationStatus
from casedesk.notifications import (
    BATCH,
    claim_lease,
    message_id,
    notification_deliver,
    notifications_deliver_pending,
    notify,
)
from casedesk.tasks import deliver_due_notifications
from tests.casedesk.helpers import deliver_outbox, locked_by_another_transaction, settle_outbox
from tests.factories import open_case
from tests.processes import free_port
from tests.smtp_sink import SmtpSink

# A real SMTP connection to a port where nothing listens: the outside world failing.
UNREACHABLE_SMTP = {
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_PORT": 1,
    "EMAIL_TIMEOUT": 2,
}


@pytest.fixture
def relay(settings):
    """A real SMTP relay on a free port, not started yet: Django's SMTP backend sends to it."""
    sink = SmtpSink(free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", sink.port, 2
    yield sink
    sink.stop()


def test_a_notification_is_sent_once_as_text_and_html(org):
    case = open_case(org)
    [pk] = notify(
        people=[org.maria, org.maria],
        case=case,
        subject="Hello",
        body="Look <here>",
        now=timezone.now(),
    )

    assert notification_deliver(notification_id=pk, now=timezone.now()) is True
    assert (
        notification_deliver(notification_id=pk, now=timezone.now()) is False
    )  # claimed and sent already

    [message] = mail.outbox
    assert message.to == [org.maria.user.email]
    assert "Look <here>" in message.body
    html, mime = message.alternatives[0]
    assert mime == "text/html"
    assert "Look &lt;here&gt;" in html
    assert f"/cases/{case.reference}/" in message.body


def test_a_failed_delivery_backs_off_doubling_up_to_an_hour(org):
    case = open_case(org)
    [pk] = notify(people=[org.maria], case=case, subject="Hello", body="Body", now=timezone.now())
    now = timezone.now()

    with override_settings(**UNREACHABLE_SMTP):
        assert notification_deliver(notification_id=pk, now=now) is False
        row = Notification.objects.get(pk=pk)
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, 1)
        assert row.next_attempt_at == now + timedelta(minutes=2)
        assert "ConnectionRefused" in row.last_error
        assert notification_deliver(notification_id=pk, now=now) is False  # not due yet

        pauses = []
        for _ in range(8):
            row = Notification.objects.get(pk=pk)
            notification_deliver(notification_id=pk, now=row.next_attempt_at)
            after = Notification.objects.get(pk=pk)
            pauses.append(after.next_attempt_at - row.next_attempt_at)

    assert [p // timedelta(minutes=1) for p in pauses] == [4, 8, 16, 32, 60, 60, 60, 60]
    assert Notification.objects.get(pk=pk).status == NotificationStatus.PENDING
    assert mail.outbox == []


def test_the_delivery_task_delivers_what_the_per_row_task_never_picked_up(org):
    case = open_case(org)
    settle_outbox()  # the client's "we opened your case"
    notify(people=[org.maria, org.lee], case=case, subject="Hello", body="Body", now=timezone.now())

    delivered = notifications_deliver_pending(now=timezone.now())

    assert delivered == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [org.maria.user.email, org.lee.user.email]
    )


def test_a_claim_left_by_a_dead_worker_is_given_back(org):
    case = open_case(org)
    settle_outbox()
    [pk] = notify(people=[org.maria], case=case, subject="Hello", body="Body", now=timezone.now())
    now = timezone.now()
    Notification.objects.filter(pk=pk).update(
        status=NotificationStatus.SENDING, claimed_at=now - timedelta(hours=1)
    )

    assert notifications_deliver_pending(now=now) == 1
    assert len(mail.outbox) == 1


def test_a_claim_is_a_lease_longer_than_a_send_can_take(org, settings):
    settings.EMAIL_TIMEOUT = 20
    case = open_case(org)
    settle_outbox()
    now = timezone.now()
    [still_sending] = notify(people=[org.maria], case=case, subject="A", body="A", now=now)
    [worker_died] = notify(people=[org.lee], case=case, subject="B", body="B", now=now)
    Notification.objects.filter(pk=still_sending).update(
        status=NotificationStatus.SENDING, claimed_at=now - timedelta(seconds=20 + 5)
    )
    Notification.objects.filter(pk=worker_died).update(
        status=NotificationStatus.SENDING, claimed_at=now - claim_lease()
    )

    assert notifications_deliver_pending(now=now) == 1

    assert [m.to for m in mail.outbox] == [[org.lee.user.email]]
    assert Notification.objects.get(pk=still_sending).status == NotificationStatus.SENDING
    assert claim_lease() > 10 * timedelta(seconds=settings.EMAIL_TIMEOUT)


def test_with_smtp_down_for_four_hours_every_email_is_delivered_once_when_it_returns(org, relay):
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    people = [org.maria, org.lee, org.devon, org.priya]
    changes = {0: "Hello", 20: "An update", 40: "A decision"}  # minute: what people are told
    with time_machine.travel(start, tick=False) as clock:
        case = open_case(org, now=timezone.now())  # the client is told too
        # The relay is down (nothing listens on its port): the delivery task runs every
        # minute for four hours, as beat runs it, and every retry that falls due fails.
        for minute in range(4 * 60):
            if minute in changes:
                notify(
                    people=people, case=case, subject=changes[minute], body="B", now=timezone.now()
                )
            notifications_deliver_pending(now=timezone.now())
            clock.shift(timedelta(minutes=1))
        rows = Notification.objects.all()
        assert {row.status for row in rows} == {NotificationStatus.PENDING}  # none failed
        assert all(row.attempts >= 8 for row in rows)
        assert all(row.next_attempt_at <= timezone.now() + timedelta(hours=1) for row in rows)

        relay.start()
        for _ in range(61):  # within the longest pause, every email goes out; then nothing
            notifications_deliver_pending(now=timezone.now())
            clock.shift(timedelta(minutes=1))

    queued = Counter((row.recipient_email, f"[casedesk] {row.subject}") for row in rows.all())
    assert len(queued) == 1 + len(changes) * len(people)
    assert relay.received() == queued  # every email once, to its recipient
    assert {row.status for row in rows.all()} == {NotificationStatus.SENT}


def test_the_delivery_task_sends_everything_due_a_batch_at_a_time(org):
    case = open_case(org)
    settle_outbox()
    now = timezone.now()
    for n in range(2 * BATCH + 5):
        notify(people=[org.maria], case=case, subject=f"Update {n}", body="Body", now=now)

    assert notifications_deliver_pending(now=now) == 2 * BATCH + 5
    assert len(mail.outbox) == 2 * BATCH + 5
    assert notifications_deliver_pending(now=now) == 0


def test_the_delivery_task_keeps_to_the_relays_rate_limit(org, settings):
    settings.CASEDESK_MAIL_RATE_LIMIT = "10/s"
    case = open_case(org)
    settle_outbox()
    for n in range(6):
        notify(people=[org.lee], case=case, subject=f"Update {n}", body="B", now=timezone.now())

    started = time.monotonic()
    sent = deliver_due_notifications()
    took = time.monotonic() - started

    assert sent == 6
    assert took >= 0.5  # six sends started a tenth of a second apart at least
    assert len(mail.outbox) == 6


def test_a_run_whose_time_is_up_gives_back_what_it_did_not_start_and_the_next_continues(org, relay):
    relay.seconds_per_message = 0.3  # a slow relay
    relay.start()
    case = open_case(org)
    settle_outbox()  # the client's "we opened your case"
    now = timezone.now()
    for n in range(11):
        notify(people=[org.lee], case=case, subject=f"Update {n}", body="Body", now=now)

    started = time.monotonic()
    sent = notifications_deliver_pending(now=now, budget=timedelta(seconds=1))
    took = time.monotonic() - started

    assert 1 <= sent < 11
    assert took < 2  # the budget, and the send under way when it ran out (not 11 sends of 0.3 s)
    updates = Notification.objects.filter(subject__startswith="Update")
    assert updates.filter(status=NotificationStatus.SENT).count() == sent
    assert {row.status for row in updates.exclude(status=NotificationStatus.SENT)} == {
        NotificationStatus.PENDING  # given back: nothing left claimed
    }
    assert notifications_deliver_pending(now=now) == 11 - sent
    assert {row.status for row in updates.all()} == {NotificationStatus.SENT}
    assert Counter(relay.received().values()) == {1: 1 + 11}  # each email once


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_another_transaction_holds_is_skipped_and_taken_by_the_next_run(org):
    case = open_case(org)
    settle_outbox()
    now = timezone.now()
    [held] = notify(people=[org.maria], case=case, subject="Held", body="Body", now=now)
    notify(people=[org.lee, org.devon], case=case, subject="Free", body="Body", now=now)
    with locked_by_another_transaction(Notification.objects.filter(pk=held)) as holder:
        assert notifications_deliver_pending(now=now, budget=timedelta(seconds=5)) == 2
        assert notification_deliver(notification_id=held, now=now) is False
        assert holder.is_alive()  # both ended while the row was still held: neither waited

    assert Notification.objects.get(pk=held).status == NotificationStatus.PENDING
    assert notifications_deliver_pending(now=now) == 1
    assert sorted(m.subject for m in mail.outbox) == ["[casedesk] Free"] * 2 + ["[casedesk] Held"]


def keep_failing_until(moment, clock):
    with override_settings(**UNREACHABLE_SMTP):
        while timezone.now() < moment:
            notifications_deliver_pending(now=timezone.now())
            clock.shift(timedelta(minutes=15))


def test_an_email_failing_for_the_configured_time_is_failed_counted_listed_and_sent_again(
    org, client, settings
):
    settings.CASEDESK_OUTBOX_GIVE_UP_HOURS = 72
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        case = open_case(org, now=timezone.now())
        settle_outbox()
        [pk] = notify(people=[org.lee], case=case, subject="Hello", body="Body", now=start)

        keep_failing_until(start + timedelta(hours=72) - timedelta(minutes=1), clock)
        assert Notification.objects.get(pk=pk).status == NotificationStatus.PENDING
        keep_failing_until(start + timedelta(hours=72, minutes=1), clock)

        failed = Notification.objects.get(pk=pk)
        assert failed.status == NotificationStatus.FAILED
        assert client.get("/healthz").json()["outbox_failed"] == 1

        # The case's holder is told, once, by the app.
        [notice] = Notification.objects.filter(failure_of=failed)
        assert notice.recipient_email == case.owner.user.email
        assert "Hello" in notice.body
        assert notice.subject == f"An email about {case.reference} could not be sent"
        notifications_deliver_pending(now=timezone.now())
        assert [m.to for m in mail.outbox] == [[case.owner.user.email]]
        mail.outbox.clear()

        # Listed for admins, and sent again in one click.
        root = User.objects.create_superuser("root", "root@example.com", "x")
        client.force_login(root)
        listing = client.get("/admin/casedesk/notification/", {"status__exact": "failed"})
        assert listing.status_code == 200
        assert "Hello" in listing.text
        assert "could not be sent" not in listing.text  # the notice was sent: not listed
        response = client.post(
            "/admin/casedesk/notification/",
            {"action": "send_again", "_selected_action": [pk]},
            follow=True,
        )
        assert "1 queued to be sent again." in response.text
        notifications_deliver_pending(now=timezone.now())
        notifications_deliver_pending(now=timezone.now())

    assert [m.to for m in mail.outbox] == [[org.lee.user.email]]
    assert Notification.objects.get(pk=pk).status == NotificationStatus.SENT
    assert client.get("/healthz").json()["outbox_failed"] == 0
    assert Notification.objects.filter(failure_of__isnull=False).count() == 1


def test_a_notice_about_a_failure_that_fails_too_is_left_to_the_log(org, settings, caplog):
    settings.CASEDESK_OUTBOX_GIVE_UP_HOURS = 1
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        case = open_case(org, now=timezone.now())
        settle_outbox()
        notify(people=[org.lee], case=case, subject="Hello", body="Body", now=start)
        [no_case] = notify(people=[org.maria], case=None, subject="Alone", body="B", now=start)

        keep_failing_until(start + timedelta(hours=3), clock)

    failed = Notification.objects.filter(status=NotificationStatus.FAILED)
    assert sorted(failed.values_list("subject", flat=True)) == [
        "Alone",
        f"An email about {case.reference} could not be sent",
        "Hello",
    ]
    notice = failed.get(failure_of__isnull=False)
    assert not Notification.objects.filter(failure_of=notice).exists()  # no notice of a notice
    assert Notification.objects.exclude(status=NotificationStatus.SENT).count() == 3
    assert not Notification.objects.filter(failure_of_id=no_case).exists()
    given_up = [r.getMessage() for r in caplog.records if "failed for good" in r.getMessage()]
    assert len(given_up) == 3
    assert any("'Alone'" in line for line in given_up)


def test_a_row_sent_twice_carries_the_same_message_id_both_times(org):
    """A worker dying between the relay's acceptance and marking the row sent makes a
    second send after the lease: it must be recognisable as the same message."""
    case = open_case(org, subject="Sent, then the worker died")
    settle_outbox()
    [row] = notify(people=[org.maria], case=case, subject="Once", body="x", now=timezone.now())
    sent_once = deliver_outbox()
    Notification.objects.filter(pk=row).update(status=NotificationStatus.PENDING)
    both = deliver_outbox()
    assert len(sent_once) == 1
    notification = Notification.objects.get(pk=row)
    assert [m.message()["Message-ID"] for m in both] == [message_id(notification)] * 2
    another = Notification(pk=row + 1, created_at=notification.created_at)
    assert message_id(another) != message_id(notification)
