from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from casedesk.health import broker_status, database_status, mailboxes_failing, outbox_failed
from casedesk.models import WorkerHeartbeat


@require_GET
def home(request):
    """Anyone: staff go to their queue, client contacts to their cases, administrators to
    the admin, visitors to sign in."""
    if not request.user.is_authenticated:
        return redirect("login")
    if hasattr(request.user, "staff"):
        return redirect("case_queue")
    if hasattr(request.user, "client_contact"):
        return redirect("client_cases")
    if request.user.is_staff:
        return redirect("admin:index")
    return render(request, "casedesk/home.html")


@require_GET
@never_cache
def healthz(request):
    """Public: database and broker reachability, 200 when both answer, else 503; with the
    database up, also when the beat last ran and how many emails failed for good (counts
    that an operator watches, not reasons to answer 503)."""
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
        report["outbox_failed"] = outbox_failed()
        report["mailboxes_failing"] = mailboxes_failing()
    return JsonResponse(report, status=200 if healthy else 503)
