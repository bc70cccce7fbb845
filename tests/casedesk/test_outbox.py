from datetime import timedelta

from django.core import mail
from django.test import override_settings
from django.utils import timezone

from casedesk.models import Notification, NotificationStatus
from casedesk.notifications import (
    MAX_ATTEMPTS,
    notification_deliver,
    notifications_deliver_pending,
    notify,
)
from tests.casedesk.helpers import settle_outbox
from tests.factories import open_case

# A real SMTP connection to a port where nothing listens: the outside world failing.
UNREACHABLE_SMTP = {
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "127.0.0.1",
    "EMAIL_PORT": 1,
    "EMAIL_TIMEOUT": 2,
}


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


def test_a_failed_delivery_backs_off_and_is_retried_until_it_gives_up(org):
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

    later = now
    with override_settings(**UNREACHABLE_SMTP):
        for _ in range(MAX_ATTEMPTS - 1):
            later += timedelta(hours=2)
            notification_deliver(notification_id=pk, now=later)
    assert Notification.objects.get(pk=pk).status == NotificationStatus.FAILED
    assert mail.outbox == []


def test_the_sweep_delivers_what_the_task_never_picked_up(org):
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
