"""Fault drill: Redis goes away under a running worker and its beat, then comes back.

Stopped for 60 seconds and started again on the same port (empty: no persistence), or
frozen with SIGSTOP (it keeps every connection and answers nothing) and then continued.
Deadlines pass during the outage; nothing can run without the broker, so they wait. When
Redis is back the worker reconnects by itself and catches up: each missed deadline
escalated once, each email sent once.

(The web under the same faults: test_redis_down.py.)
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.faults.due_items import held_items
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

STOPPED_SECONDS = 60  # the outage issue 12 measured
FROZEN_SECONDS = 5


def through_an_outage(org, worker, *, seconds: float, begin, end) -> tuple[float, int]:
    """Run the worker through `seconds` of outage while deadlines pass; the time it took to
    catch up once the outage ended, and how many deadlines passed during it."""
    wait_until(lambda: worker.sweeps_done() >= 1, timeout=60, what="a sweep", log=worker.log)
    before = held_items(org, each=2, label="Before: ")
    wait_until(lambda: settled(before, emails_in([worker.mail])), timeout=60, what="a normal sweep")

    begin()
    down_since = time.monotonic()
    during = held_items(
        org, each=2, label="During: ", due_at=timezone.now() + timedelta(seconds=seconds / 4)
    )
    time.sleep(max(0, seconds - (time.monotonic() - down_since)))  # the outage itself
    assert not any(escalations_per_deadline(during).values()), "nothing runs without Redis"
    end()
    back = time.monotonic()

    due = before + during
    wait_until(
        lambda: settled(due, emails_in([worker.mail])),
        timeout=120,
        what="the worker to catch up",
        log=worker.log,
    )
    recovered = time.monotonic() - back
    quiet([worker])
    assert_invariants(due, emails_in([worker.mail]))
    return recovered, len(during)


# name: (seconds, how it begins, how it ends)
OUTAGES = {
    f"Redis stopped {STOPPED_SECONDS} s": (STOPPED_SECONDS, "stop", "start"),
    f"Redis frozen {FROZEN_SECONDS} s (SIGSTOP)": (FROZEN_SECONDS, "freeze", "thaw"),
}


@pytest.mark.parametrize("outage", OUTAGES, ids=["stopped", "frozen"])
def test_after_redis_was_stopped_or_frozen_the_worker_catches_up_by_itself(
    org, redis_server, celery_processes, outage
):
    seconds, begin, end = OUTAGES[outage]
    worker = celery_processes.worker()
    recovered, passed = through_an_outage(
        org,
        worker,
        seconds=seconds,
        begin=getattr(redis_server, begin),
        end=getattr(redis_server, end),
    )
    report_recovery(outage, recovered, f"{passed} deadlines passed during the outage")
