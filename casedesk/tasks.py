from datetime import timedelta

from celery import shared_task
from celery.utils.time import rate
from django.conf import settings
from django.utils import timezone

from casedesk.models import WorkerHeartbeat
from casedesk.notifications import (
    delivery_time_limits,
    notification_deliver,
    notifications_deliver_pending,
)

# How long one run of the delivery task keeps sending. Short, so a worker that consumes
# the sweep's queue too (`make run`'s) is never held for long; the next run continues.
DELIVERY_BUDGET = timedelta(seconds=5)
# A send that hangs past its socket timeouts is stopped before its claim can be taken back.
SOFT_TIME_LIMIT, TIME_LIMIT = delivery_time_limits()


@shared_task
def record_heartbeat() -> str:
    """Run by beat on a worker; /healthz shows when it last ran."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="beat", defaults={"seen_at": now})
    return now.isoformat()


@shared_task(ignore_result=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def deliver_notification(notification_id: int) -> bool:
    """Queued when a change commits; thin: the outbox service claims, sends and keeps the
    retry bookkeeping."""
    return notification_deliver(notification_id=notification_id, now=timezone.now())


@shared_task(ignore_result=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def deliver_due_notifications() -> int:
    """Run by beat every CASEDESK_DELIVERY_SECONDS on the mail queue: sends what is due
    (retries, rows whose task was lost) at the relay's pace, for DELIVERY_BUDGET."""
    # The relay's limit, which deliver_notification keeps too (Celery's "0/s": none).
    per_second = rate(settings.CASEDESK_MAIL_RATE_LIMIT or None)
    spacing = timedelta(seconds=1 / per_second) if per_second else None
    return notifications_deliver_pending(
        now=timezone.now(), budget=DELIVERY_BUDGET, spacing=spacing
    )
