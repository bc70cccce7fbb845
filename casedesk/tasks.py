from celery import shared_task
from django.utils import timezone

from casedesk.models import WorkerHeartbeat


@shared_task
def record_heartbeat() -> str:
    """Run by beat on a worker; /healthz shows when it last ran."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(name="beat", defaults={"seen_at": now})
    return now.isoformat()
