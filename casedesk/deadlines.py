"""Deadlines, stored whenever a case or hand-off changes hands (never recomputed by scans).

Until SLA policies arrive these are per-priority defaults from settings.
"""

from datetime import datetime, timedelta

from django.conf import settings


def case_due_at(*, priority: str, start: datetime) -> datetime:
    return start + timedelta(hours=settings.CASE_DEFAULT_DEADLINE_HOURS[priority])


def handoff_due_at(*, start: datetime) -> datetime:
    return start + timedelta(hours=settings.HANDOFF_DEFAULT_DEADLINE_HOURS)
