"""Fault drill: someone's transaction holds a due case and a due hand-off (SELECT ... FOR
UPDATE, as an agent's action does) while the worker sweeps.

The sweep never waits on it: every other due item is handled by the first sweep, the held
two are skipped by every sweep while the lock lasts, and the first sweep after it is
released takes them, once.
"""

import time

import psycopg
import pytest
from django.db import connection

from casedesk.models import Case, HandOff
from tests.faults.due_items import Due, held_items
from tests.faults.invariants import (
    assert_invariants,
    emails_in,
    escalations_of,
    escalations_per_deadline,
    quiet,
    settled,
)
from tests.faults.report import report_recovery
from tests.processes import database_url, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def hold(*items) -> psycopg.Connection:
    """Another session locks these rows FOR UPDATE and keeps its transaction open."""
    session = psycopg.connect(database_url(connection.settings_dict))
    for item in items:
        table = item.model._meta.db_table
        session.execute(f'SELECT 1 FROM "{table}" WHERE id = %s FOR UPDATE', [item.pk])
    return session


def test_a_locked_case_and_hand_off_wait_for_the_next_sweep_and_hold_up_nothing(
    org, celery_processes
):
    due = held_items(org, each=3)
    held = [due.of(Case)[0], due.of(HandOff)[0]]
    others = [item for item in due.items if item not in held]
    session = hold(*held)
    try:
        worker = celery_processes.worker()
        wait_until(
            lambda: all(escalations_per_deadline(due)[item] for item in others),
            timeout=60,
            what="every item nobody holds to be escalated",
            log=worker.log,
        )
        quiet([worker])  # sweeps ran with the lock held...
        assert not any(escalations_per_deadline(due)[item] for item in held)  # ...and skipped
    finally:
        session.rollback()  # the agent's transaction ends
        session.close()
    released = time.monotonic()

    wait_until(
        lambda: settled(due, emails_in([worker.mail])), timeout=60, what="the held items' turn"
    )
    recovered = time.monotonic() - released
    quiet([worker])
    assert_invariants(due, emails_in([worker.mail]))
    first_sweep = escalations_of(Due(others)).values("escalated_at").distinct()
    assert first_sweep.count() == 1, "one sweep took them all"
    report_recovery(
        "a case and a hand-off locked during the sweep",
        recovered,
        f"{len(others)} other due items handled by the first sweep, the locked two once free",
    )
