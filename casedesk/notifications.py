"""Notifications through the outbox: queue them with the change, deliver them after.

`notify` writes outbox rows inside the caller's transaction and, once it commits, asks a
worker to deliver them. Delivery claims rows with SKIP LOCKED, so a row is sent by one
worker at a time and no claim waits behind a row another transaction holds; failures back
off and retry. Beat's delivery task sends whatever is due (retries, and rows whose task
was lost, for instance when the broker was down at commit time) at the relay's pace.

Nothing is given up silently: a row keeps being retried (at most an hour apart) for
CASEDESK_OUTBOX_GIVE_UP_HOURS; then it is marked failed, its case's holder is told by a
notification of its own, and an administrator can send it again.
"""

import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import StaffProfile
from casedesk import batching
from casedesk.actors import Actor
from casedesk.models import Case, CaseEvent, ClientContact, Notification, NotificationStatus
from casedesk.plain_words import client_email
from casedesk.reply_address import reply_address
from casedesk.status_links import status_token

log = logging.getLogger(__name__)

LONGEST_PAUSE = timedelta(hours=1)
# One SMTP send is a dozen socket operations at most (connect, greeting, EHLO, STARTTLS and
# EHLO again, AUTH, MAIL, RCPT, DATA, the message, QUIT), each bounded by EMAIL_TIMEOUT.
SMTP_OPERATIONS = 12
LEASE_MARGIN = timedelta(minutes=1)
BATCH = 20  # rows claimed at a time by notifications_deliver_pending


def longest_send() -> timedelta:
    return SMTP_OPERATIONS * timedelta(seconds=settings.EMAIL_TIMEOUT)


def claim_lease() -> timedelta:
    """How long a claim on a row is held before it is taken for a dead worker's and given
    back. Longer than a send can take, so a send that may still happen (or may have
    happened just now) is never made a second time by another worker."""
    return longest_send() + LEASE_MARGIN


def delivery_time_limits() -> tuple[float, float]:
    """Celery's soft and hard time limits, in seconds, for a task that delivers. It makes
    its claims after it starts, so ending it (the hard limit) before a lease can run out
    means a send that hangs past its socket timeouts is never still under way when another
    worker takes the row back; the soft limit, just before, notes that send as failed."""
    lease = claim_lease().total_seconds()
    return lease - 30, lease - 15


def retry_pause(attempts: int) -> timedelta:
    """2, 4, 8... minutes after each failed attempt, never more than an hour."""
    return min(timedelta(minutes=2 ** min(attempts, 10)), LONGEST_PAUSE)


def give_up_after() -> timedelta:
    return timedelta(hours=settings.CASEDESK_OUTBOX_GIVE_UP_HOURS)


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
    failure_of: Notification | None = None,
) -> list[int]:
    """Queue one email per person (once each, never to `actor`: nobody is told of their own
    action), stamped with the change's `now`; delivery starts when the transaction commits.
    Inside a batch (casedesk.batching) the rows are written with the batch's."""
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
                recipient_name=_fit(person.name, "recipient_name"),
                subject=_fit(subject, "subject"),
                body=body,
                calendar=calendar,
                links_to_case=not isinstance(person, ClientContact),
                ephemeral=ephemeral,
                created_at=now,
                next_attempt_at=now,
                trying_since=now,
                failure_of=failure_of,
            )
        )
    batching.create_all(rows, then=_enqueue_on_commit)
    return [row.pk for row in rows if row.pk is not None]  # none yet inside a batch


def _fit(text: str, field: str) -> str:
    """Cut to the column's length: a subject naming people and departments with long names
    must not fail the change (or the sweep's batch) that tells them."""
    limit = Notification._meta.get_field(field).max_length
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _enqueue_on_commit(rows: list[Notification]) -> None:
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: _enqueue(ids))


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

    for queued, notification_id in enumerate(ids):
        try:
            deliver_notification.delay(notification_id)
        except Exception:  # broker down: the rows stay pending for beat's delivery task
            # One timeout is enough to know: the rest are not tried, so a change that tells
            # many people never waits a timeout per person.
            log.warning(
                "could not queue notifications %s; beat's delivery task will send them",
                ids[queued:],
            )
            return


def notification_deliver(*, notification_id: int, now: datetime) -> bool:
    """Send one pending notification; True if this call sent it."""
    claimed = _claim(_due(now).filter(pk=notification_id), limit=1)
    return bool(claimed) and _deliver_claimed(claimed[0], now=now)


def notifications_deliver_pending(
    *, now: datetime, budget: timedelta | None = None, spacing: timedelta | None = None
) -> int:
    """Deliver what is due at `now`, a batch at a time, until nothing is due or `budget`
    (time spent here) is spent, starting sends at least `spacing` apart (a relay's rate
    limit); returns how many were sent.

    First the claims of workers that died mid-send are given back (a claim older than its
    lease: a live worker would have finished or timed out). A batch's rows not yet started
    when its time is up are given back at once, for the next call or another worker.
    """
    # Claims are stamped and aged by the wall clock, never by `now` (a command may act "as
    # of" another instant): a claim a live worker made a moment ago is never taken from it.
    _give_back(
        Notification.objects.filter(
            status=NotificationStatus.SENDING, claimed_at__lte=timezone.now() - claim_lease()
        )
    )
    # Durations, read from the monotonic clock: `now` stays the one time of day for the rows.
    give_up_at = time.monotonic() + (budget.total_seconds() if budget else float("inf"))
    sent = 0
    while time.monotonic() < give_up_at:
        batch = _claim(_due(now), limit=BATCH)
        if not batch:
            break
        # Each send starts soon after its claim, so it ends (at most `longest_send` later)
        # inside the claim's lease, however slow the relay.
        stop_at = min(give_up_at, time.monotonic() + LEASE_MARGIN.total_seconds() / 2)
        for started, notification in enumerate(batch):
            if time.monotonic() >= stop_at:
                _give_back(Notification.objects.filter(pk__in=[n.pk for n in batch[started:]]))
                break
            next_send_at = time.monotonic() + (spacing.total_seconds() if spacing else 0)
            sent += _deliver_claimed(notification, now=now)
            if next_send_at >= give_up_at:  # the relay's pace leaves no send in the budget
                _give_back(Notification.objects.filter(pk__in=[n.pk for n in batch[started + 1 :]]))
                return sent
            time.sleep(max(0.0, next_send_at - time.monotonic()))
    return sent


def _due(now: datetime) -> QuerySet[Notification]:
    return Notification.objects.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now)


def _claim(due: QuerySet[Notification], *, limit: int) -> list[Notification]:
    """Mark up to `limit` rows of `due` as being sent by this caller, oldest first. A row
    another transaction holds is skipped, never waited for: the next claim takes it."""
    with transaction.atomic():
        ids = list(
            due.select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Notification.objects.filter(pk__in=ids).update(
            status=NotificationStatus.SENDING, claimed_at=timezone.now()
        )
    return list(
        Notification.objects.select_related("case")
        .filter(pk__in=ids)
        .order_by("next_attempt_at", "pk")
    )


def _give_back(claims: QuerySet[Notification]) -> None:
    """Make claimed rows due again, skipping any another transaction holds just now."""
    with transaction.atomic():
        ids = list(
            claims.filter(status=NotificationStatus.SENDING)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            status=NotificationStatus.PENDING, claimed_at=None
        )


def _deliver_claimed(notification: Notification, *, now: datetime) -> bool:
    try:
        _send(notification)
    except Exception as error:  # Celery's soft time limit too: a send that hung
        _note_failure(notification, error=error, now=now)
        return False
    _settle(
        notification,
        status=NotificationStatus.SENT,
        sent_at=now,
        attempts=notification.attempts + 1,
        **_wiped(notification),
    )
    return True


def _settle(notification: Notification, **outcome) -> bool:
    """Record a send's outcome on the row, if the claim is still this caller's: one taken
    back meanwhile (its lease ran out) belongs to whoever took it, and is not overwritten."""
    mine = Notification.objects.filter(
        pk=notification.pk, status=NotificationStatus.SENDING, claimed_at=notification.claimed_at
    )
    if mine.update(**outcome) == 1:
        return True
    log.warning("notification %s: its claim was taken back before the outcome", notification.pk)
    return False


def _note_failure(notification: Notification, *, error: Exception, now: datetime) -> None:
    """Try again after a pause, until the row has been trying for the configured time:
    then it is failed, and whoever holds its case is told (the log is told either way)."""
    attempts = notification.attempts + 1
    give_up_at = notification.trying_since + give_up_after()
    last_error = f"{error.__class__.__name__}: {error}"[:2000]
    outcome = {"attempts": attempts, "last_error": last_error}
    if now < give_up_at:
        _settle(
            notification,
            status=NotificationStatus.PENDING,
            # The last try is made at the limit, not up to a pause after it.
            next_attempt_at=min(now + retry_pause(attempts), give_up_at),
            **outcome,
        )
        log.warning("notification %s failed (attempt %s): %s", notification.pk, attempts, error)
        return
    with transaction.atomic():
        if not _settle(
            notification, status=NotificationStatus.FAILED, **outcome, **_wiped(notification)
        ):
            return
        notification.attempts, notification.last_error = attempts, last_error
        _tell_about_failure(notification, now=now)


def _tell_about_failure(notification: Notification, *, now: datetime) -> None:
    log.error(
        "notification %s to %s (%r) failed for good after %s attempts: %s",
        notification.pk,
        notification.recipient_email,
        notification.subject,
        notification.attempts,
        notification.last_error,
    )
    case = notification.case
    # A notice about a failure that fails too is left to the log: no notice about a notice.
    if case is None or notification.failure_of_id is not None:
        return
    hours = settings.CASEDESK_OUTBOX_GIVE_UP_HOURS
    name = notification.recipient_name or notification.recipient_email
    notify(
        people=[case.owner],
        case=case,
        subject=f"An email about {case.reference} could not be sent",
        body=(
            f"We tried for {hours} hours to email {name} <{notification.recipient_email}> "
            f"and could not: “{notification.subject}” was not delivered.\n\n"
            f"Last error: {notification.last_error}\n\n"
            "If they needed to know, please reach them another way. Once the problem is "
            "fixed, an administrator can send it again from the outbox in the admin."
        ),
        now=now,
        failure_of=notification,
    )


def notifications_send_again(*, ids: Iterable[int], now: datetime) -> tuple[int, int]:
    """Queue failed rows again as if new: due now, with a whole new time to keep trying.
    Returns (queued, refused): a row that held a one-time sign-in link is refused, its link
    having been removed when it was given up on (the person can ask for a new one)."""
    failed = Notification.objects.filter(pk__in=list(ids), status=NotificationStatus.FAILED)
    refused = failed.filter(ephemeral=True).count()
    with transaction.atomic():
        queued = list(
            failed.filter(ephemeral=False).select_for_update().values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=queued, status=NotificationStatus.FAILED).update(
            status=NotificationStatus.PENDING,
            next_attempt_at=now,
            trying_since=now,
            claimed_at=None,
        )
        transaction.on_commit(lambda: _enqueue(queued))
    return len(queued), refused


def _wiped(notification: Notification) -> dict:
    """A secret (a sign-in link) is kept only until it is sent, or given up on."""
    if not notification.ephemeral:
        return {}
    return {"body": "(Removed once sent: it held a one-time sign-in link.)"}


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


def message_id(notification: Notification) -> str:
    """The same Message-ID each time a row is sent: should a worker die between the relay
    accepting an email and the row being marked sent, the second send (after the claim's
    lease) carries the first one's id, which mail systems recognise as the same message.
    The row's time makes it unique beyond this database's ids (a restore, another site)."""
    host = urlsplit(settings.CASEDESK_SITE_URL).hostname or "casedesk"
    stamp = notification.created_at.strftime("%Y%m%d%H%M%S%f")
    return f"<notification.{notification.pk}.{stamp}@{host}>"


def _reply_to(notification: Notification) -> str:
    """A client's email carries the signed address its reply threads into the case by
    (casedesk.reply_address): the case's department's mailbox, when the inbound app has
    one for it (looked up by name: casedesk does not import the layer above it)."""
    case = notification.case
    if case is None or notification.links_to_case:
        return ""
    contact_id = (
        ClientContact.objects.filter(
            client_id=case.client_id, email__iexact=notification.recipient_email
        )
        .values_list("pk", flat=True)
        .first()
    )
    if contact_id is None:
        return ""
    mailbox_address = ""
    if apps.is_installed("inbound"):
        mailboxes = apps.get_model("inbound", "Mailbox").objects
        mailbox_address = (
            mailboxes.filter(department_id=case.department_id, active=True)
            .order_by("pk")
            .values_list("address", flat=True)
            .first()
        ) or ""
    return reply_address(case_id=case.pk, contact_id=contact_id, mailbox_address=mailbox_address)


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
        reply_to=[reply_to] if (reply_to := _reply_to(notification)) else None,
        # Automatic mail: auto-responders do not answer it, and our own reading of
        # mailboxes (inbound.receive) ignores it should it ever come back.
        headers={"Message-ID": message_id(notification), "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("emails/notification.html", context), "text/html")
    if notification.calendar:
        message.attach("invite.ics", notification.calendar, "text/calendar; method=REQUEST")
    message.send()
