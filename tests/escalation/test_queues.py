"""Escalation never waits behind email: the sweep and delivery have queues of their own."""

from pathlib import Path

from celery import current_app
from django.conf import settings

from casedesk.notifications import claim_lease
from casedesk.tasks import deliver_due_notifications, deliver_notification

ROOT = Path(__file__).resolve().parents[2]


def queue_of(task_name: str) -> str:
    return current_app.amqp.router.route({}, task_name)["queue"].name


def test_the_sweep_and_email_go_to_queues_of_their_own():
    assert queue_of("escalation.tasks.run_escalations") == "sweep"
    assert queue_of("casedesk.tasks.record_heartbeat") == "sweep"
    assert queue_of("casedesk.tasks.deliver_notification") == "mail"
    assert queue_of("casedesk.tasks.deliver_due_notifications") == "mail"
    assert queue_of("escalation.tasks.send_top_digests") == "celery"


def test_a_sweep_made_late_by_a_backlog_is_never_dropped():
    sweep = settings.CELERY_BEAT_SCHEDULE["run-escalations"]
    assert "expires" not in sweep.get("options", {})


def test_beat_runs_delivery_every_few_seconds_and_drops_a_run_the_next_one_overtook():
    delivery = settings.CELERY_BEAT_SCHEDULE["deliver-due-notifications"]
    assert delivery["task"] == deliver_due_notifications.name
    assert delivery["schedule"] == settings.CASEDESK_DELIVERY_SECONDS == 5
    assert delivery["options"]["expires"] == settings.CASEDESK_DELIVERY_SECONDS


def test_a_delivery_task_is_stopped_before_the_lease_on_its_claims_runs_out():
    lease = claim_lease().total_seconds()
    for task in (deliver_notification, deliver_due_notifications):
        registered = current_app.tasks[task.name]
        assert registered.soft_time_limit < registered.time_limit < lease


def test_delivery_takes_the_configured_rate_limit():
    deliver = current_app.tasks[deliver_notification.name]
    assert deliver.rate_limit == (settings.CASEDESK_MAIL_RATE_LIMIT or None)


def test_the_demo_worker_and_a_worker_without_queues_named_consume_all_three():
    assert "-Q sweep,mail,celery" in (ROOT / "bin" / "run-demo").read_text()
    assert {queue.name for queue in current_app.amqp.queues.consume_from.values()} == {
        "sweep",
        "mail",
        "celery",
    }
