"""Fault drill: the worker is SIGKILLed in the middle of a sweep (no shutdown, no
acknowledgement: the machine died), and a new worker takes over.

What the dead one committed stays done and what it had under way rolls back with its
transaction: the new worker escalates the rest, each missed deadline once, and sends every
email once.
"""

import time

import pytest

from tests.faults.due_items import cases_at_the_top, held_items
from tests.faults.invariants import (
    assert_invariants,
    emails_in,
    escalations_per_deadline,
    quiet,
    settled,
)
from tests.faults.report import report_recovery
from tests.processes import wait_until

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

AT_THE_TOP = 300  # a sweep of several batches: long enough to be caught half-way


def escalated(due) -> int:
    return sum(1 for n in escalations_per_deadline(due).values() if n)


def test_a_worker_killed_mid_sweep_leaves_the_rest_to_the_next_one_done_once(org, celery_processes):
    due = held_items(org, each=3) + cases_at_the_top(org, AT_THE_TOP)
    first = celery_processes.worker("first")
    wait_until(
        lambda: escalated(due) > 0, timeout=60, every=0.02, what="the sweep to start", log=first.log
    )
    first.kill()
    killed = time.monotonic()
    done_before = escalated(due)
    assert done_before < len(due), "the sweep ended before the kill: make it longer"

    second = celery_processes.worker("second")
    wait_until(
        lambda: settled(due, emails_in([first.mail, second.mail])),
        timeout=90,
        what="the new worker to catch up",
        log=second.log,
    )
    recovered = time.monotonic() - killed
    quiet([second])
    assert_invariants(due, emails_in([first.mail, second.mail]))
    report_recovery(
        "worker SIGKILLed mid-sweep",
        recovered,
        f"{done_before} of {len(due)} due items escalated before the kill",
    )
