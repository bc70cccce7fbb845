from celery import shared_task

from escalation.sweep import sweep


@shared_task(ignore_result=True)
def run_escalations() -> int:
    """Run by beat every CASEDESK_SWEEP_SECONDS; thin: the sweep does the work."""
    report = sweep()
    return len(report.escalated) + len(report.warned)
