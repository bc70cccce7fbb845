"""The supervisor's dashboard, read in a fixed number of queries whatever the case count.

Figures cover the viewer's reporting subtree over the last 30 days (the site's calendar
days, today included), summed from the rows escalation.figures keeps per day, department
and person. Each figure has a key (`figure_cases`) that lists the cases behind it, so every
number links to its cases. Lists show their first few items, with how many there are and
a link to all of them.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from casedesk.models import Case, CaseState, HandOff, HandOffState
from casedesk.selectors import Viewer, cases_visible_to, with_row_relations
from escalation.figures import DAYS, day_start, figures_for, late_case_ids, site_day, window_start
from escalation.models import Escalation, ExceptionRequest
from escalation.selectors import pending_decisions_for

LISTED = 10  # items a dashboard list shows; the rest are one link away


@dataclass
class Health:
    cases: int = 0
    on_time: int = 0
    resolved: int = 0
    breaches_this_week: int = 0
    median_first_response: timedelta | None = None
    median_time_to_yes: timedelta | None = None
    breaches_per_day: list[tuple[date, int]] = field(default_factory=list)
    on_time_by_department: list[tuple[str, int, int]] = field(default_factory=list)
    as_of: datetime | None = None  # when the stored figures were last recomputed

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.cases if self.cases else None


@dataclass
class Listed:
    """The first LISTED items of a list, and how many it holds."""

    items: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass
class Dashboard:
    pending: Listed
    escalated_to_me: Listed
    stalled_handoffs: Listed
    health: Health


class _CountOf(Subquery):
    template = "(SELECT COUNT(*) FROM (%(subquery)s) listed)"
    output_field = IntegerField()


def _first_few(rows: QuerySet) -> Listed:
    """One query: the first rows, each carrying the whole list's count. The count and the
    choice of the first rows read the list's own table; only the rows shown are joined to
    what they show (joined for the whole list, a planner may scan every case)."""
    first = rows.values("pk")[:LISTED]
    items = list(
        rows.filter(pk__in=first).annotate(listed_total=_CountOf(rows.order_by().values("pk")))
    )
    return Listed(items=items, total=items[0].listed_total if items else 0)


def _start_of_week(now: datetime) -> date:
    today = site_day(now)
    return today - timedelta(days=today.weekday())


def _subtree_cases(viewer: Viewer, now: datetime) -> QuerySet[Case]:
    return Case.objects.filter(
        owner_id__in=viewer.subtree_ids, created_at__gte=day_start(window_start(now))
    )


def _subtree_breaches(viewer: Viewer, now: datetime) -> QuerySet[Escalation]:
    return Escalation.objects.filter(
        from_person_id__in=viewer.subtree_ids,
        escalated_at__gte=day_start(window_start(now)),
        repeat=False,
    )


def escalated_to(viewer: Viewer) -> QuerySet[Case]:
    """Their own cases: the list shows reference, subject and deadline, nothing related."""
    return Case.objects.filter(state=CaseState.ESCALATED, owner=viewer.staff).order_by(
        "due_at", "pk"
    )


def stalled_handoffs(viewer: Viewer, now: datetime) -> QuerySet[HandOff]:
    return (
        HandOff.objects.filter(state=HandOffState.OPEN)
        .filter(Q(due_at__lt=now) | Q(escalation_level__gt=0))
        .filter(
            # Their own department's, in or out; and whatever a person of their subtree
            # holds or waits on (a director over both departments sees every stall).
            Q(from_department_id=viewer.department_id)
            | Q(to_department_id=viewer.department_id)
            | Q(accountable_id__in=viewer.subtree_ids)
            # A test per hand-off by the case's key, not a join to every case.
            | Exists(Case.objects.filter(pk=OuterRef("case_id"), owner_id__in=viewer.subtree_ids))
        )
        .select_related("case", "accountable__user", "from_department", "to_department")
        .order_by("created_at", "pk")
    )


def dashboard_for(viewer: Viewer, *, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    return Dashboard(
        pending=_first_few(pending_decisions_for(viewer.staff)),
        escalated_to_me=_first_few(escalated_to(viewer)),
        stalled_handoffs=_first_few(stalled_handoffs(viewer, now)),
        health=_health(viewer, now),
    )


def _health(viewer: Viewer, now: datetime) -> Health:
    figures = figures_for(viewer.subtree_ids, now=now)
    today = site_day(now)
    days = [today - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    week = _start_of_week(now)
    return Health(
        cases=figures.opened,
        on_time=figures.opened - figures.opened_late,
        resolved=figures.resolved,
        breaches_this_week=sum(n for day, n in figures.breaches_per_day.items() if day >= week),
        median_first_response=figures.median_first_response,
        median_time_to_yes=figures.median_decision,
        breaches_per_day=[(day, figures.breaches_per_day.get(day, 0)) for day in days],
        on_time_by_department=sorted(
            (name, good, total) for name, (good, total) in figures.by_department.items()
        ),
        as_of=figures.refreshed_at,
    )


def figure_cases(viewer: Viewer, figure: str, *, now: datetime | None = None) -> QuerySet[Case]:
    """The cases behind a dashboard figure that the viewer may see (a breach or decision in
    their subtree can be on a case they do not); an unknown figure lists nothing."""
    now = now or timezone.now()
    cases = _subtree_cases(viewer, now)
    late = cases.filter(pk__in=late_case_ids())
    breached = _subtree_breaches(viewer, now)
    if figure == "all":
        chosen = cases
    elif figure == "on-time":
        chosen = cases.exclude(pk__in=late.values("pk"))
    elif figure == "late":
        chosen = late
    elif figure == "breaches-week":
        chosen = Case.objects.filter(
            pk__in=breached.filter(escalated_at__gte=day_start(_start_of_week(now))).values(
                "case_id"
            )
        )
    elif figure == "first-response":
        chosen = cases.filter(first_response_at__isnull=False)
    elif figure == "time-to-yes":
        chosen = Case.objects.filter(
            pk__in=ExceptionRequest.objects.filter(
                requested_by_id__in=viewer.subtree_ids,
                decided_at__gte=day_start(window_start(now)),
            ).values("case_id")
        )
    elif figure.startswith("day-"):
        try:
            day = date.fromisoformat(figure[4:])
        except ValueError:
            return Case.objects.none()
        chosen = Case.objects.filter(
            pk__in=breached.filter(
                escalated_at__gte=day_start(day), escalated_at__lt=day_start(day + timedelta(1))
            ).values("case_id")
        )
    elif figure.startswith("department-"):
        chosen = cases.filter(department__name=figure[len("department-") :])
    elif figure == "awaiting-decision":
        chosen = Case.objects.filter(pk__in=pending_decisions_for(viewer.staff).values("case_id"))
    elif figure == "stalled-handoffs":
        chosen = Case.objects.filter(pk__in=stalled_handoffs(viewer, now).values("case_id"))
    else:
        return Case.objects.none()
    chosen = chosen.filter(pk__in=cases_visible_to(viewer).values("pk"))
    return with_row_relations(chosen, viewer).order_by("-created_at")
