"""Fault drill: PostgreSQL restarts (a fast shutdown: every session cut, every open
transaction rolled back) while the worker is in the middle of a sweep.

It runs on a cluster of its own, on a free port (never the machine's shared server): the
schema is migrated there by `manage.py migrate`, and for the length of the drill this
test's own Django connection points there too, so the drill sets up and inspects that
database with the same factories, services and checker as the others.
"""

import subprocess
import sys
import time
from contextlib import contextmanager

import psycopg
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection

from tests.factories import demo_org
from tests.faults.due_items import cases_at_the_top, held_items
from tests.faults.invariants import (
    assert_invariants,
    emails_in,
    escalations_per_deadline,
    quiet,
    settled,
)
from tests.faults.report import report_recovery
from tests.processes import (
    ROOT,
    PostgresCluster,
    celery_env,
    require,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

AT_THE_TOP = 300  # a sweep of several batches: under way when the server goes


@pytest.fixture
def private_postgres(tmp_path):
    """A migrated database `casedesk` on a cluster of the test's own."""
    require(PostgresCluster.available(), "needs PostgreSQL's server programs (initdb, pg_ctl)")
    cluster = PostgresCluster()
    cluster.start()
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE casedesk")
        env = celery_env(database=cluster.url("casedesk"), redis="", workdir=tmp_path)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--verbosity=0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        yield cluster
    finally:
        cluster.stop()
        cluster.remove()


@contextmanager
def connected_to(cluster: PostgresCluster, name: str):
    """This test's Django connection, on the cluster's database for a while."""
    before = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(
        NAME=name, HOST="127.0.0.1", PORT=str(cluster.port), USER="postgres"
    )
    ContentType.objects.clear_cache()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(before)
        ContentType.objects.clear_cache()


def once_it_answers(check):
    """A check that is false, not an error, while the server is away (the restart cuts
    this test's own session too: the next query opens a new one)."""

    def checking() -> bool:
        try:
            return check()
        except DatabaseError:
            connection.close()
            return False

    return checking


def test_a_postgres_restart_mid_sweep_costs_a_sweep_and_nothing_else(
    private_postgres, celery_processes
):
    with connected_to(private_postgres, "casedesk"):
        org = demo_org()
        due = held_items(org, each=3) + cases_at_the_top(org, AT_THE_TOP)
        worker = celery_processes.worker()  # on the cluster: the connection points there
        wait_until(
            lambda: any(escalations_per_deadline(due).values()),
            timeout=60,
            every=0.02,
            what="the sweep to start",
            log=worker.log,
        )
        private_postgres.restart()
        back = time.monotonic()
        connection.close()  # the restart cut this test's session too
        done_before = sum(1 for n in escalations_per_deadline(due).values() if n)
        assert done_before < len(due), "the sweep ended before the restart: make it longer"

        wait_until(
            once_it_answers(lambda: settled(due, emails_in([worker.mail]))),
            timeout=90,
            what="the worker to catch up after the restart",
            log=worker.log,
        )
        recovered = time.monotonic() - back
        quiet([worker])
        assert_invariants(due, emails_in([worker.mail]))
        # The worker felt it: how depends on where the restart caught it (in a query, or
        # between two, when the next one finds the connection gone).
        felt = ("administrator command", "OperationalError", "InterfaceError")
        assert any(sign in worker.log.read_text() for sign in felt), "the worker never noticed"
    report_recovery(
        "PostgreSQL restarted mid-sweep",
        recovered,
        f"{done_before} of {len(due)} due items escalated before the restart",
    )
