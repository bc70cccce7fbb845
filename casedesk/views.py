from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from casedesk.health import broker_status, database_status
from casedesk.models import WorkerHeartbeat


@login_required
def home(request):
    """Signed-in people only; the workspace pages arrive with the agents' workspace."""
    return render(request, "casedesk/home.html")


@require_GET
@never_cache
def healthz(request):
    """Public: database and broker reachability, 200 when both answer, else 503."""
    report = {
        "database": database_status(),
        "broker": broker_status(
            settings.CELERY_BROKER_URL, settings.CELERY_BROKER_TRANSPORT_OPTIONS
        ),
    }
    healthy = all(status == "ok" for status in report.values())
    if report["database"] == "ok":
        beat = WorkerHeartbeat.objects.filter(name="beat").first()
        report["beat_last_seen"] = beat.seen_at.isoformat() if beat else None
        report["beat_age_seconds"] = (
            round((timezone.now() - beat.seen_at).total_seconds()) if beat else None
        )
    return JsonResponse(report, status=200 if healthy else 503)
