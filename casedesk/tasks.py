from celery import shared_task
from django.utils import timezone

from casedesk.models import WorkerHeartbeat


@shared_task
def record_heartbeat() -> str:
    """Run by beat on a worker; /healthz shows when it last ran."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="beat", defaults={"seen_at": now})
    return now.isoformat()


@shared_task(ignore_result=True)
def deliver_notification(notification_id: int) -> bool:
    """Thin: the outbox service does the claiming, sending and retry bookkeeping."""
    from casedesk.notifications import notification_deliver

    return notification_deliver(notification_id=notification_id, now=timezone.now())
