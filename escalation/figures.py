"""The dashboard's figures, kept per day, department and person, so the page sums a few
small rows instead of counting the cases of its whole area.

Kept by a job, not by each action: `figures_refresh` recomputes the last days from the raw
tables (cases, escalations, exception requests) and replaces their rows, in one
transaction, under the lock of the one FigureRefresh row. Why a job:

- The figures follow the dashboard's own attribution (a case counts for whoever owns it
  now, on the day it was opened; a case counts as late once any of its deadlines was
  missed, whenever that was). A case changing hands, or missing a deadline weeks after it
  was opened, changes an old day's row: counters bumped by each action would have to move
  counts between rows, and a missed move would stay wrong for good. Recomputed, a row
  cannot drift.
- Every action of a person would otherwise update the same hot row (today, their
  department, them): two actions of one team would queue on that row's lock.
- Running it twice changes nothing: a run while another holds the lock finds it taken
  and returns; a run after it writes the same rows. A row cannot be half-counted.

The cost is one pass over the last 30 days of cases (the created_at index), not over the
history; the figures are as old as the last run (the beat's interval), and the page says
when that was. `manage.py rebuild_figures` runs the same code over every day there is.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Aggregate, Count, FloatField, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from casedesk.models import Case, CaseState
from escalation.models import (
    DurationKind,
    Escalation,
    ExceptionRequest,
    ExceptionState,
    FigureDay,
    FigureDuration,
    FigureRefresh,
)

DAYS = 30  # the dashboard's window: today and the 29 days before it


def site_zone() -> ZoneInfo:
    """Days are the site's calendar days, whoever looks (a person's own zone would need a
    row per zone)."""
    return ZoneInfo(settings.TIME_ZONE)


def site_day(moment: datetime) -> date:
    return timezone.localtime(moment, site_zone()).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=site_zone())


def window_start(now: datetime) -> date:
    return site_day(now) - timedelta(days=DAYS - 1)


def late_case_ids():
    """Cases whose own deadline was missed (hand-off and decision breaches count apart)."""
    return Escalation.objects.filter(handoff__isnull=True, exception_request__isnull=True).values(
        "case_id"
    )


def figures_refresh(*, now: datetime, first_day: date | None = None, wait: bool = False) -> bool:
    """Recompute every day from `first_day` (default: the dashboard's window) to today.
    False when another refresh holds the lock (it is writing the same rows), unless told to
    `wait` for it: a rebuild of older days than beat's window must not be skipped."""
    first_day = first_day or window_start(now)
    FigureRefresh.objects.get_or_create(pk=1)
    with transaction.atomic():
        claim = FigureRefresh.objects.select_for_update(skip_locked=not wait)
        claimed = claim.filter(pk=1).first()
        if claimed is None:
            return False
        since = day_start(first_day)
        FigureDay.objects.filter(day__gte=first_day).delete()
        FigureDuration.objects.filter(day__gte=first_day).delete()
        FigureDay.objects.bulk_create(_days(since), batch_size=1000)
        FigureDuration.objects.bulk_create(_durations(since), batch_size=1000)
        claimed.refreshed_at = now
        claimed.first_day = min(first_day, claimed.first_day or first_day)
        claimed.save()
    return True


def _days(since: datetime) -> list[FigureDay]:
    rows: dict[tuple, FigureDay] = {}

    def row(day, department_id, person_id) -> FigureDay:
        key = (day, department_id, person_id)
        if key not in rows:
            rows[key] = FigureDay(day=day, department_id=department_id, person_id=person_id)
        return rows[key]

    zone = site_zone()
    opened = (
        Case.objects.filter(created_at__gte=since)
        .values("department_id", "owner_id", day=TruncDate("created_at", tzinfo=zone))
        .annotate(
            opened=Count("pk"),
            late=Count("pk", filter=Q(pk__in=late_case_ids())),
        )
        .values_list("day", "department_id", "owner_id", "opened", "late")
    )
    for day, department_id, owner_id, count, late in opened:
        figure = row(day, department_id, owner_id)
        figure.opened, figure.opened_late = count, late
    resolved = (
        Case.objects.filter(state=CaseState.RESOLVED, closed_at__gte=since)
        .values("department_id", "owner_id", day=TruncDate("closed_at", tzinfo=zone))
        .annotate(count=Count("pk"))
        .values_list("day", "department_id", "owner_id", "count")
    )
    for day, department_id, owner_id, count in resolved:
        row(day, department_id, owner_id).resolved = count
    breaches = (
        Escalation.objects.filter(escalated_at__gte=since, repeat=False)
        .values("case__department_id", "from_person_id", day=TruncDate("escalated_at", tzinfo=zone))
        .annotate(count=Count("pk"))
        .values_list("day", "case__department_id", "from_person_id", "count")
    )
    for day, department_id, person_id, count in breaches:
        row(day, department_id, person_id).breaches = count
    return list(rows.values())


def _durations(since: datetime) -> list[FigureDuration]:
    """Each row: (the moment that sets its day, department, person, start, end)."""
    responses = Case.objects.filter(
        created_at__gte=since, first_response_at__isnull=False
    ).values_list("created_at", "department_id", "owner_id", "created_at", "first_response_at")
    decisions = (
        ExceptionRequest.objects.filter(decided_at__gte=since)
        .exclude(state=ExceptionState.PENDING)
        .values_list(
            "decided_at", "case__department_id", "requested_by_id", "created_at", "decided_at"
        )
    )
    return [
        FigureDuration(
            kind=kind,
            day=site_day(moment),
            department_id=department_id,
            person_id=person_id,
            seconds=(end - start).total_seconds(),
        )
        for kind, rows in (
            (DurationKind.FIRST_RESPONSE, responses),
            (DurationKind.DECISION, decisions),
        )
        for moment, department_id, person_id, start, end in rows.iterator(chunk_size=5000)
    ]


# --- Reading them ------------------------------------------------------------------


@dataclass(frozen=True)
class AreaFigures:
    """A subtree's figures over the window, summed from the stored rows."""

    refreshed_at: datetime | None
    opened: int
    opened_late: int
    resolved: int
    breaches_per_day: dict[date, int]
    by_department: dict[str, tuple[int, int]]  # name: (on time, opened)
    median_first_response: timedelta | None
    median_decision: timedelta | None


class Median(Aggregate):
    """PostgreSQL's exact median (the mean of the two middle values, as statistics.median)."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def figures_for(person_ids, *, now: datetime) -> AreaFigures:
    """The figures of these people's cases over the window, in three queries whatever the
    number of cases: the rows are days by departments by people, and the durations are the
    window's first responses and decisions."""
    first_day = window_start(now)
    rows = FigureDay.objects.filter(person_id__in=person_ids, day__gte=first_day).values_list(
        "day", "department__name", "opened", "opened_late", "resolved", "breaches"
    )
    per_day: dict[date, int] = defaultdict(int)
    by_department: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    opened = late = resolved = 0
    for day, department, day_opened, day_late, day_resolved, breaches in rows:
        per_day[day] += breaches
        opened, late, resolved = opened + day_opened, late + day_late, resolved + day_resolved
        if day_opened:
            by_department[department][0] += day_opened - day_late
            by_department[department][1] += day_opened
    first, decision = _medians(
        FigureDuration.objects.filter(person_id__in=person_ids, day__gte=first_day)
    )
    return AreaFigures(
        refreshed_at=FigureRefresh.objects.filter(pk=1)
        .values_list("refreshed_at", flat=True)
        .first(),
        opened=opened,
        opened_late=late,
        resolved=resolved,
        breaches_per_day=dict(per_day),
        by_department={name: (good, total) for name, (good, total) in by_department.items()},
        median_first_response=first,
        median_decision=decision,
    )


def _medians(durations) -> tuple[timedelta | None, timedelta | None]:
    if connection.vendor == "postgresql":
        found = durations.aggregate(
            first=Median("seconds", filter=Q(kind=DurationKind.FIRST_RESPONSE)),
            decision=Median("seconds", filter=Q(kind=DurationKind.DECISION)),
        )
        values = (found["first"], found["decision"])
    else:  # SQLite has no percentile_cont: the same median, in Python
        seconds = defaultdict(list)
        for kind, value in durations.values_list("kind", "seconds"):
            seconds[kind].append(value)
        values = tuple(
            median(seconds[kind]) if seconds[kind] else None
            for kind in (DurationKind.FIRST_RESPONSE, DurationKind.DECISION)
        )
    return tuple(None if value is None else timedelta(seconds=value) for value in values)
