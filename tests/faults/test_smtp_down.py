"""Fault drill: the mail relay is down while items escalate, then comes back.

`make run`'s worker and beat, on a Redis of the drill's own, send by SMTP to a real server
(tests/smtp_sink.py) that is not listening yet. Overdue cases and a hand-off escalate all
the same, and every email their changes queue is tried and fails. The relay returns; the
worker's clock is moved on to when the last retry is due (the first pause is two minutes,
not worth waiting for). Then every outbox row becomes exactly one email at the relay,
nothing is given up on, and every due item was escalated exactly once.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from casedesk.models import ACTIVE_STATES, Case, HandOff, HandOffState, Notification
from casedesk.models.outbox import NotificationStatus
from escalation.models import Escalation
from tests.casedesk.helpers import ask_devon
from tests.factories import open_case
from tests.faults.invariants import outbox as outbox_ids
from tests.faults.outbox_processes import WorkerClock, demo_worker
from tests.faults.report import report_recovery
from tests.processes import free_port, private_redis, wait_until
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def overdue(org, subject: str) -> Case:
    case = open_case(org, subject=subject, priority="urgent")
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    return case


def overdue_handoff(org) -> HandOff:
    handoff = ask_devon(org, open_case(org, subject="Waiting on Institutional Services"))
    HandOff.objects.filter(pk=handoff.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    return handoff


@pytest.fixture
def relay():
    sink = SmtpSink(free_port())  # not started: the relay is down
    yield sink
    sink.stop()


def test_with_the_relay_down_items_escalate_and_every_email_goes_once_when_it_returns(
    org, relay, tmp_path
):
    clock = WorkerClock(tmp_path)
    with private_redis(tmp_path) as redis:
        cases = [overdue(org, f"Overdue while the relay is down {n}") for n in range(3)]
        handoff = overdue_handoff(org)
        with demo_worker(
            redis=redis,
            smtp_port=relay.port,
            workdir=tmp_path,
            CASEDESK_SWEEP_SECONDS="1",
            CASEDESK_DELIVERY_SECONDS="1",
            **clock.env,
        ) as log:
            outbox = Notification.objects.all()
            wait_until(
                lambda: (
                    Escalation.objects.count() == len(cases) + 1
                    and not outbox.filter(attempts=0).exists()
                ),
                timeout=60,
                what="every item escalated and each of its emails tried",
                log=log,
            )
            assert {row.status for row in outbox.all()} == {NotificationStatus.PENDING}
            assert all("refused" in row.last_error for row in outbox.all())

            relay.start()
            last_retry = max(row.next_attempt_at for row in outbox.all())
            clock.advance(last_retry - timezone.now() + timedelta(seconds=5))
            recovered = wait_until(
                lambda: not outbox.exclude(status=NotificationStatus.SENT).exists(),
                timeout=60,
                what="every email sent once the relay is back",
                log=log,
            )
        # The worker has stopped: nothing is still on its way to the relay.

    queued = Counter((row.recipient_email, f"[casedesk] {row.subject}") for row in outbox.all())
    assert relay.received() == queued  # each email once, to its recipient
    assert relay.message_ids() == outbox_ids()  # and each row's email exactly once
    assert sum(queued.values()) >= 3 * len(cases)  # client, new and previous holder each
    for case in cases:
        assert Escalation.objects.filter(case=case, handoff__isnull=True).count() == 1
        assert Case.objects.get(pk=case.pk).owner == org.maria
    assert Escalation.objects.filter(handoff=handoff).count() == 1
    assert HandOff.objects.get(pk=handoff.pk).accountable == org.priya
    assert not Case.objects.filter(state__in=ACTIVE_STATES, due_at=None).exists()
    assert not HandOff.objects.filter(state=HandOffState.OPEN, due_at=None).exists()
    report_recovery(
        "mail relay down, then back",
        recovered,
        f"{sum(queued.values())} emails queued while it was down, each delivered once",
    )
