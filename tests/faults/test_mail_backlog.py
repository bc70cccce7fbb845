"""Acceptance: escalation never waits behind email, and email goes at the relay's pace.

The relay takes 0.3 s over each message (a real SMTP server, tests/smtp_sink.py), and
`make run`'s worker and beat run on a Redis of the drill's own. Five thousand emails are
queued (outbox rows, their delivery tasks on the mail queue) while a case falls overdue: it
is escalated within one sweep interval plus 10 seconds, and the relay receives mail as fast
as the worker's two processes can hand it over, one message each at a time. Emails whose
tasks were lost (queued while Redis was down) go at the relay's pace too: beat's delivery
task sends them, not the sweep.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from casedesk.models import Case, ClientContact, Notification
from casedesk.notifications import notify
from escalation.models import Escalation
from tests.factories import open_case
from tests.faults.outbox_processes import PROCESSES, demo_worker
from tests.faults.report import report_line
from tests.processes import free_port, private_redis, wait_until
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BACKLOG = 5000
RELAY_SECONDS = 0.3  # per message
SWEEP_SECONDS = 5
MEASURED = 60  # messages timed at the sink


@pytest.fixture
def slow_relay():
    sink = SmtpSink(free_port(), seconds_per_message=RELAY_SECONDS)
    sink.start()
    yield sink
    sink.stop()


def test_behind_5000_emails_and_a_slow_relay_an_overdue_case_escalates_within_a_sweep_and_10s(
    org, slow_relay, tmp_path
):
    with private_redis(tmp_path) as redis:
        case = open_case(org, subject="Overdue behind five thousand emails", priority="urgent")
        readers = [
            ClientContact(name=f"Reader {n}", email=f"reader{n}@example.com")
            for n in range(BACKLOG)
        ]
        notify(people=readers, case=case, subject="Our newsletter", body="News", now=timezone.now())

        with demo_worker(
            redis=redis,
            smtp_port=slow_relay.port,
            workdir=tmp_path,
            CASEDESK_SWEEP_SECONDS=str(SWEEP_SECONDS),
        ) as log:
            wait_until(lambda: slow_relay.count() >= 1, timeout=60, what="the first email", log=log)
            first, started = slow_relay.count(), time.monotonic()
            due_at = timezone.now() + timedelta(seconds=1)
            Case.objects.filter(pk=case.pk).update(due_at=due_at)

            wait_until(
                lambda: Escalation.objects.filter(case=case).exists(),
                timeout=60,
                what="the overdue case's escalation",
                log=log,
            )
            seen_after = timezone.now() - due_at
            escalation = Escalation.objects.get(case=case)
            wait_until(
                lambda: slow_relay.count() >= first + MEASURED,
                timeout=60,
                what=f"{MEASURED} more emails",
                log=log,
            )
            rate = (slow_relay.count() - first) / (time.monotonic() - started)
        pending = Notification.objects.filter(status="pending").count()

    relay_pace = PROCESSES / RELAY_SECONDS  # each process hands over one message at a time
    late = (escalation.escalated_at - due_at).total_seconds()
    report_line(
        f"{BACKLOG:,} emails behind a {RELAY_SECONDS} s relay, sweeping every {SWEEP_SECONDS} s: "
        f"an overdue case escalated {late:.1f} s after its deadline (seen "
        f"{seen_after.total_seconds():.1f} s after; at most {SWEEP_SECONDS + 10} s); mail sent at "
        f"{rate:.2f}/s by {PROCESSES} processes (the relay's pace: {relay_pace:.2f}/s); "
        f"{pending} emails still waiting"
    )
    assert seen_after <= timedelta(seconds=SWEEP_SECONDS + 10)
    assert Case.objects.get(pk=case.pk).owner == org.maria
    assert 0.6 * relay_pace <= rate <= 1.05 * relay_pace
    assert pending > BACKLOG / 2  # the case did not wait for the backlog to drain


def test_email_whose_tasks_were_lost_goes_at_the_relays_pace_by_beats_delivery_task(
    org, slow_relay, tmp_path
):
    with private_redis(tmp_path) as redis:
        case = open_case(org, subject="Told while Redis was down")
        redis.stop()
        readers = [
            ClientContact(name=f"Reader {n}", email=f"reader{n}@example.com") for n in range(200)
        ]
        # Publishing fails (fast): the rows wait in the outbox with no task anywhere.
        notify(people=readers, case=case, subject="Our newsletter", body="News", now=timezone.now())
        redis.start()

        with demo_worker(redis=redis, smtp_port=slow_relay.port, workdir=tmp_path):
            wait_until(lambda: slow_relay.count() >= 2, timeout=60, what="the first emails")
            first, started = slow_relay.count(), time.monotonic()
            wait_until(
                lambda: slow_relay.count() >= first + MEASURED // 2,
                timeout=60,
                what=f"{MEASURED // 2} more emails",
            )
            rate = (slow_relay.count() - first) / (time.monotonic() - started)

    one_at_a_time = 1 / RELAY_SECONDS  # a run of the delivery task sends one after another
    print(f"\nthe delivery task sent {rate:.2f}/s (one connection: {one_at_a_time:.2f}/s)")
    assert 0.6 * one_at_a_time <= rate <= 1.05 * PROCESSES * one_at_a_time
