"""Notifications through the outbox: queue them with the change, deliver them after.

`notify` writes outbox rows inside the caller's transaction and, once it commits, asks a
worker to deliver them. Delivery claims each row with a conditional update, so a row is
sent by one worker at a time; failures back off and retry; the sweep delivers whatever is
still pending (for instance when the broker was down at commit time).
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import StaffProfile
from casedesk.actors import Actor
from casedesk.models import Case, CaseEvent, ClientContact, Notification, NotificationStatus
from casedesk.plain_words import client_email
from casedesk.status_links import status_token

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
STALE_CLAIM = timedelta(minutes=10)  # a worker that died mid-send gives its claim back


def notify(
    *,
    people: Iterable[StaffProfile | ClientContact | None],
    case: Case | None,
    subject: str,
    body: str,
    now: datetime,
    actor: Actor | None = None,
    calendar: str = "",
    ephemeral: bool = False,
) -> list[int]:
    """Queue one email per person (once each, never to `actor`: nobody is told of their own
    action), stamped with the change's `now`; delivery starts when the transaction commits."""
    rows, seen = [], set()
    for person in people:
        if person is None or _is_actor(person, actor):
            continue
        email = person.email if isinstance(person, ClientContact) else person.user.email
        if not email or email in seen:
            continue
        seen.add(email)
        rows.append(
            Notification(
                case=case,
                recipient_email=email,
                recipient_name=person.name,
                subject=subject,
                body=body,
                calendar=calendar,
                links_to_case=not isinstance(person, ClientContact),
                ephemeral=ephemeral,
                created_at=now,
                next_attempt_at=now,
            )
        )
    ids = [row.pk for row in Notification.objects.bulk_create(rows)]
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def notify_client(*, case: Case, event: CaseEvent, actor: Actor) -> list[int]:
    """Tell the client's contacts about a change they can see, each with their case's
    status link; the contact who made the change already knows."""
    subject, body = client_email(case, event)
    return notify(
        people=case.client.contacts.all(),
        case=case,
        subject=subject,
        body=body,
        now=event.created_at,
        actor=actor,
    )


def _is_actor(person: StaffProfile | ClientContact, actor: Actor | None) -> bool:
    if actor is None:
        return False
    if isinstance(person, ClientContact):
        return actor.contact is not None and actor.contact.pk == person.pk
    return actor.staff is not None and actor.staff.pk == person.pk


def _enqueue(ids: list[int]) -> None:
    from casedesk.tasks import deliver_notification

    for notification_id in ids:
        try:
            deliver_notification.delay(notification_id)
        except Exception:  # broker down: the row stays pending and the sweep delivers it
            log.warning("could not queue notification %s; the sweep will send it", notification_id)


def notification_deliver(*, notification_id: int, now: datetime) -> bool:
    """Send one pending notification; True if this call sent it."""
    claimed = Notification.objects.filter(
        pk=notification_id, status=NotificationStatus.PENDING, next_attempt_at__lte=now
    ).update(status=NotificationStatus.SENDING, claimed_at=now)
    if claimed != 1:
        return False
    notification = Notification.objects.select_related("case").get(pk=notification_id)
    try:
        _send(notification)
    except Exception as error:
        attempts = notification.attempts + 1
        failed = attempts >= MAX_ATTEMPTS
        Notification.objects.filter(pk=notification_id).update(
            status=NotificationStatus.FAILED if failed else NotificationStatus.PENDING,
            attempts=attempts,
            next_attempt_at=now + timedelta(minutes=2**attempts),
            last_error=f"{error.__class__.__name__}: {error}"[:2000],
            **(_wiped(notification) if failed else {}),
        )
        log.warning("notification %s failed (attempt %s): %s", notification_id, attempts, error)
        return False
    Notification.objects.filter(pk=notification_id).update(
        status=NotificationStatus.SENT,
        sent_at=now,
        attempts=notification.attempts + 1,
        **_wiped(notification),
    )
    return True


def _wiped(notification: Notification) -> dict:
    """A secret (a sign-in link) is kept only until it is sent, or given up on."""
    if not notification.ephemeral:
        return {}
    return {"body": "(Removed once sent: it held a one-time sign-in link.)"}


def notifications_deliver_pending(*, now: datetime, limit: int = 200) -> int:
    """Deliver what is due, after giving back claims of workers that died mid-send."""
    Notification.objects.filter(
        status=NotificationStatus.SENDING, claimed_at__lt=now - STALE_CLAIM
    ).update(status=NotificationStatus.PENDING)
    due = Notification.objects.filter(
        status=NotificationStatus.PENDING, next_attempt_at__lte=now
    ).values_list("pk", flat=True)[:limit]
    return sum(notification_deliver(notification_id=pk, now=now) for pk in list(due))


def _link(notification: Notification) -> str:
    """Staff get the case page; clients the case's status page, with its link as it is at
    sending time (a link reissued since the change was queued is the one that works)."""
    case = notification.case
    if case is None:
        return ""
    if notification.links_to_case:
        path = reverse("case_detail", args=[case.reference])
    else:
        path = reverse("status_page", args=[status_token(case)])
    return settings.CASEDESK_SITE_URL.rstrip("/") + path


def _send(notification: Notification) -> None:
    context = {
        "notification": notification,
        "case": notification.case,
        "case_url": _link(notification),
        "for_client": not notification.links_to_case,
    }
    message = EmailMultiAlternatives(
        subject=f"[casedesk] {notification.subject}",
        body=render_to_string("emails/notification.txt", context),
        to=[notification.recipient_email],
    )
    message.attach_alternative(render_to_string("emails/notification.html", context), "text/html")
    if notification.calendar:
        message.attach("invite.ics", notification.calendar, "text/calendar; method=REQUEST")
    message.send()
