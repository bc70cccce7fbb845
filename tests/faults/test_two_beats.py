"""Fault drill: two beats at once (a second `worker --beat` started by mistake), each
scheduling every sweep, two workers sweeping the same database side by side.

Every periodic task runs twice as often; nothing is done twice: each missed deadline is
escalated once and each outbox row sent once, whoever's sweep got to it.
"""

import time

import pytest

from tests.faults.due_items import cases_at_the_top, held_items
from tests.faults.invariants import assert_invariants, quiet, settled
from tests.faults.report import report_recovery
from tests.processes import celery_processes, redis_server, wait_until

__all__ = ["celery_processes", "redis_server"]  # fixtures

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_beats_and_their_workers_escalate_and_email_everything_once(org, celery_processes):
    workers = [celery_processes.worker("left"), celery_processes.worker("right")]
    for worker in workers:
        wait_until(
            lambda worker=worker: worker.sweeps_done() >= 1,
            timeout=60,
            what=f"{worker.name} to sweep",
            log=worker.log,
        )
    started = time.monotonic()
    due = held_items(org, each=5) + cases_at_the_top(org, 300)
    mail = [worker.mail for worker in workers]

    wait_until(lambda: settled(due, mail), timeout=90, what="the sweeps to catch up")
    handled = time.monotonic() - started
    quiet(workers)
    assert_invariants(due, mail)
    assert all(worker.mail.exists() for worker in workers), "both workers should have sent"
    report_recovery(
        "two beats at once", handled, f"{len(due)} due items, each handled once by two sweepers"
    )
