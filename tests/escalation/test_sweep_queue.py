"""A real worker on the sweep queue escalates while thousands of emails wait on theirs.

Its own redis-server and a `celery worker -Q sweep --beat` on the test database, as the
README's production section runs it; the backlog is real delivery tasks on the mail queue.
"""

import pytest
from celery import Celery

from casedesk.models import Case
from casedesk.tasks import deliver_notification
from tests.escalation.test_worker_integration import make_overdue
from tests.processes import wait_until

BACKLOG = 2000


@pytest.fixture
def sweep_worker(celery_processes):
    return celery_processes.worker(queues=("sweep",)).log


def queue_mail_backlog(url: str, count: int) -> None:
    app = Celery("backlog", broker=url, set_as_current=False)
    with app, app.producer_or_acquire() as producer:
        for notification_id in range(count):
            app.send_task(
                deliver_notification.name, args=[notification_id], queue="mail", producer=producer
            )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_overdue_case_escalates_at_once_behind_a_backlog_of_email(
    org, redis_server, sweep_worker
):
    url = f"redis://127.0.0.1:{redis_server.port}/0"
    queue_mail_backlog(url, BACKLOG)
    case = make_overdue(org, "Overdue behind two thousand emails")

    wait_until(
        lambda: Case.objects.get(pk=case.pk).state == "escalated",
        timeout=30,
        what="the sweep worker to escalate the overdue case",
        log=sweep_worker,
    )
    with Celery("check", broker=url, set_as_current=False).connection_for_read() as conn:
        waiting = conn.default_channel.client.llen("mail")
    assert waiting >= BACKLOG  # the email still waits on its own queue, untouched
