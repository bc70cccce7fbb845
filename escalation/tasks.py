from celery import shared_task
from django.utils import timezone

from escalation.digest import digests_send
from escalation.figures import figures_refresh
from escalation.sweep import sweep


@shared_task(ignore_result=True)
def run_escalations() -> int:
    """Run by beat every CASEDESK_SWEEP_SECONDS; thin: the sweep does the work."""
    report = sweep()
    return len(report.escalated) + len(report.warned)


@shared_task(ignore_result=True)
def send_top_digests() -> int:
    """Run by beat every 15 minutes: each top holder's digest, once a day in their hours."""
    return len(digests_send(now=timezone.now()))


@shared_task(ignore_result=True)
def refresh_figures() -> bool:
    """Run by beat every CASEDESK_FIGURES_SECONDS: the dashboard's figures, recomputed."""
    return figures_refresh(now=timezone.now())
