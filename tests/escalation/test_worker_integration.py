"""The real thing: a Redis server, a Celery worker with its beat, and PostgreSQL.

The test starts its own redis-server (so it can stop it) and a worker with beat as
subprocesses on the test database, sweeping every second. Email goes to files, the one
fake: the outside world. Nobody calls the task: beat does.
"""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from casedesk.models import Case
from tests.factories import open_case
from tests.processes import wait_until


@pytest.fixture
def worker(celery_processes):
    """celery worker --beat on the test database, sweeping every second."""
    process = celery_processes.worker()
    return {"mail": process.mail, "log": process.log}


def emails_to(mail_dir: Path, address: str) -> int:
    if not mail_dir.exists():
        return 0
    return sum(f"To: {address}" in path.read_text() for path in mail_dir.glob("*.log"))


def make_overdue(org, subject: str) -> Case:
    case = open_case(org, subject=subject, priority="urgent")
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    return case


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_beat_and_a_worker_escalate_on_their_own_and_catch_up_after_redis_returns(
    org, redis_server, worker
):
    maria = org.maria.user.email

    first = make_overdue(org, "Overdue while all is well")
    wait_until(
        lambda: Case.objects.get(pk=first.pk).state == "escalated",
        timeout=60,
        what="beat and the worker to escalate the overdue case",
        log=worker["log"],
    )
    wait_until(
        lambda: emails_to(worker["mail"], maria) >= 1,
        timeout=30,
        what="the escalation email to maria",
        log=worker["log"],
    )
    assert Case.objects.get(pk=first.pk).owner == org.maria

    redis_server.stop()
    second = make_overdue(org, "Overdue while Redis is down")  # the web side keeps working
    time.sleep(3)
    assert Case.objects.get(pk=second.pk).state == "open"  # nothing runs without the broker

    redis_server.start()
    wait_until(
        lambda: Case.objects.get(pk=second.pk).state == "escalated",
        timeout=90,
        what="the escalation once Redis is back",
        log=worker["log"],
    )
    wait_until(
        lambda: emails_to(worker["mail"], maria) >= 2,
        timeout=60,
        what="the second email once Redis is back",
        log=worker["log"],
    )
    assert Case.objects.get(pk=second.pk).events.filter(kind="escalated").count() == 1
