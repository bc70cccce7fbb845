"""Claims under contention: a row a live sender holds is never sent twice, a delivery run
keeps to its budget, and a case someone holds leaves every other due item to this sweep.

A review of the batched sweep and of beat's delivery found each of these broken; each
docstring says where the code used to break it.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.utils import timezone

from casedesk.models import Case, Notification
from casedesk.notifications import claim_lease, notifications_deliver_pending, notify
from casedesk.tasks import DELIVERY_BUDGET, SOFT_TIME_LIMIT, deliver_due_notifications
from escalation.sweep import BATCH, sweep_due
from tests.casedesk.helpers import locked_by_another_transaction, settle_outbox
from tests.escalation.test_sweep_in_batches import _held
from tests.factories import open_case

# --- The outbox: a row a live sender holds is never sent a second time ------------------


class SlowRelay(BaseEmailBackend):
    """A relay that takes `seconds` of (travelled) time per email sent by the code under test.
    From `_next_run` on, every 5 s of that time, beat's delivery task runs on another worker
    (`other_worker`, whose own sends run in parallel: they take none of this clock)."""

    clock = None
    seconds = 0.3
    other_worker = None
    _inside_other = False
    _next_run = None

    def send_messages(self, messages):
        for message in messages:
            mail.outbox.append(message)
            if SlowRelay._inside_other or SlowRelay.other_worker is None:
                continue
            SlowRelay.clock.shift(timedelta(seconds=SlowRelay.seconds))
            if timezone.now() >= SlowRelay._next_run:
                SlowRelay._next_run = timezone.now() + timedelta(seconds=5)
                SlowRelay._inside_other = True
                try:
                    SlowRelay.other_worker()
                finally:
                    SlowRelay._inside_other = False
        return len(messages)


def test_run_escalations_sending_a_backlog_never_lets_another_worker_send_a_row_twice(
    org, settings
):
    """`run_escalations` delivers with no budget (it "works without a worker") and stamps
    every claim with the instant it started; behind a slow relay (0.3 s an email, the
    issue's) its claims made after a lease's time look dead at once. A worker coming back
    then (beat's delivery task) gives back the batch the command is sending and sends it:
    the client and staff get those emails twice (casedesk/notifications.py
    notifications_deliver_pending's `now`, _claim's claimed_at, _deliver_claimed not checking
    that the claim is still its own)."""
    settings.EMAIL_BACKEND = f"{__name__}.SlowRelay"
    settings.EMAIL_TIMEOUT = 1  # lease 72 s: a backlog of a few hundred emails outlasts it
    lease = claim_lease()
    count = int(lease.total_seconds() / SlowRelay.seconds) + 60
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        SlowRelay.clock, SlowRelay.other_worker = clock, None
        case = open_case(org, now=timezone.now())
        settle_outbox()
        for n in range(count):
            notify(people=[org.lee], case=case, subject=f"Update {n}", body="B", now=start)

        def beat_delivery_on_another_worker():
            notifications_deliver_pending(now=timezone.now(), budget=timedelta(seconds=5))

        SlowRelay.other_worker = beat_delivery_on_another_worker
        SlowRelay._next_run = timezone.now() + lease + timedelta(seconds=5)  # a worker returns
        try:
            call_command("run_escalations", stdout=open("/dev/null", "w"))  # noqa: SIM115
        finally:
            SlowRelay.other_worker = None

    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    sent = Counter(message.extra_headers["Message-ID"] for message in mail.outbox)
    assert len(sent) == count
    twice = {message_id: n for message_id, n in sent.items() if n > 1}
    assert twice == {}, f"{len(twice)} emails sent more than once"


def test_run_escalations_at_a_later_instant_never_takes_a_claim_a_live_worker_holds(org):
    """`run_escalations --at` (a sweep "as of" an instant) gives back claims older than a
    lease before that instant, not before the wall clock: a row a worker claimed a moment
    ago and is sending right now is given back and sent again by the command."""
    case = open_case(org)
    settle_outbox()
    now = timezone.now()
    [row] = notify(people=[org.lee], case=case, subject="Being sent", body="B", now=now)
    Notification.objects.filter(pk=row).update(status="sending", claimed_at=now)  # live

    call_command(
        "run_escalations",
        "--at",
        (now + timedelta(hours=1)).isoformat(),
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )

    assert mail.outbox == []  # the live worker's send is the only one
    assert Notification.objects.get(pk=row).status == "sending"


@pytest.mark.parametrize("rate", ["1/m", "10/h"])
def test_the_delivery_task_never_holds_its_worker_past_its_budget(org, settings, monkeypatch, rate):
    """With a slow but valid rate (CASEDESK_MAIL_RATE_LIMIT="1/m"; "10/h" is past the soft
    time limit), each run sleeps the whole spacing after its last send, though nothing more
    is due and its budget is spent: a worker slot of `make run`'s worker (-Q sweep,mail,
    concurrency 2) held for a minute per run, beat queueing one every 5 s: the sweep waits
    behind email again (casedesk/notifications.py notifications_deliver_pending)."""
    settings.CASEDESK_MAIL_RATE_LIMIT = rate
    case = open_case(org)
    settle_outbox()
    notify(people=[org.lee], case=case, subject="One email", body="B", now=timezone.now())
    slept = []
    monkeypatch.setattr("casedesk.notifications.time.sleep", slept.append)

    assert deliver_due_notifications() == 1

    assert sum(slept) <= DELIVERY_BUDGET.total_seconds()
    assert sum(slept) < SOFT_TIME_LIMIT  # else Celery ends it in its sleep, claims in hand


# --- The sweep: one locked row holds up nothing else ------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("what", ["hand-offs", "call-backs", "exception requests"])
def test_a_held_items_case_locked_by_someone_leaves_no_other_due_item_for_the_next_sweep(org, what):
    """claim_items locks the cases of the oldest BATCH due items, skipping a locked one, and
    comes back one short; _work_through takes a short claim for "nothing left" and stops:
    every due item past the first batch waits a whole sweep (or more, while the lock is held)
    behind one person's open transaction (escalation/due.py claim_items,
    escalation/sweep.py _work_through)."""
    now = timezone.now()
    missed = {"due_at": now - timedelta(minutes=5), "warn_at": None}
    _held(org, what, BATCH + 10, start=880_000, deadline=missed)
    oldest_case = Case.objects.filter(reference__startswith="CD-88").order_by("pk").values("pk")[:1]

    with locked_by_another_transaction(Case.objects.filter(pk__in=oldest_case)):
        report = sweep_due(now=now)

    assert len(report.escalated) == BATCH + 9  # all but the locked one, at once
