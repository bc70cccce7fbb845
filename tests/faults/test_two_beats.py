"""Fault drill: two beats at once (a `celery beat` started beside a worker that already runs
one with --beat), each scheduling every sweep, and two workers sweeping the same database
side by side.

Every periodic task runs twice as often; nothing is done twice: each missed deadline is
escalated once and each outbox row sent once, whichever sweep got to it.
"""

import time

import pytest

from tests.faults.due_items import cases_at_the_top, held_items
from tests.faults.invariants import assert_invariants, emails_in, quiet, settled
from tests.faults.report import report_line
from tests.processes import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_beats_and_two_workers_escalate_and_email_everything_once(org, celery_processes):
    workers = [celery_processes.worker("left"), celery_processes.worker("right", beat=False)]
    beat = celery_processes.beat("second-beat")
    wait_until(
        lambda: "Sending due task run-escalations" in beat.log.read_text(),
        timeout=60,
        what="the second beat to schedule a sweep",
        log=beat.log,
    )
    for worker in workers:
        wait_until(
            lambda worker=worker: worker.sweeps_done() >= 1,
            timeout=60,
            what=f"{worker.name} to sweep",
            log=worker.log,
        )
    started = time.monotonic()
    due = held_items(org, each=5) + cases_at_the_top(org, 150)
    mail = [worker.mail for worker in workers]

    wait_until(lambda: settled(due, emails_in(mail)), timeout=90, what="the sweeps to catch up")
    handled = time.monotonic() - started
    quiet(workers)
    assert_invariants(due, emails_in(mail))
    report_line(
        f"two beats at once: everything handled in {handled:.1f} s "
        f"({len(due)} due items, each escalated once by two workers side by side)"
    )
