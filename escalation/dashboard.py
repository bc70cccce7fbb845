"""The supervisor's dashboard, read in a fixed number of queries whatever the case count.

Figures cover the viewer's reporting subtree over the last 30 days. Each figure has a key
(`figure_cases`) that lists the cases behind it, so every number links to its cases.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from django.db.models import Q, QuerySet
from django.utils import timezone

from casedesk.models import Case, CaseState, HandOff, HandOffState
from casedesk.selectors import Viewer, cases_visible_to, with_row_relations
from escalation.models import Escalation, ExceptionRequest, ExceptionState
from escalation.selectors import pending_decisions_for

WINDOW = timedelta(days=30)


@dataclass
class Health:
    cases: int = 0
    on_time: int = 0
    breaches_this_week: int = 0
    median_first_response: timedelta | None = None
    median_time_to_yes: timedelta | None = None
    breaches_per_day: list[tuple[date, int]] = field(default_factory=list)
    on_time_by_department: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.cases if self.cases else None


@dataclass
class Dashboard:
    pending: list
    escalated_to_me: list
    stalled_handoffs: list
    health: Health


def _start_of_week(now: datetime) -> datetime:
    local = timezone.localtime(now)
    monday = local.date() - timedelta(days=local.weekday())
    return timezone.make_aware(datetime.combine(monday, datetime.min.time()))


def _subtree_cases(viewer: Viewer, now: datetime) -> QuerySet[Case]:
    return Case.objects.filter(owner_id__in=viewer.subtree_ids, created_at__gte=now - WINDOW)


def _subtree_breaches(viewer: Viewer, now: datetime) -> QuerySet[Escalation]:
    return Escalation.objects.filter(
        from_person_id__in=viewer.subtree_ids, escalated_at__gte=now - WINDOW, repeat=False
    )


def _late_case_ids() -> QuerySet:
    """Cases whose own deadline was missed (hand-off and decision breaches count apart)."""
    return Escalation.objects.filter(handoff__isnull=True, exception_request__isnull=True).values(
        "case_id"
    )


def dashboard_for(viewer: Viewer, *, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    me = viewer.staff
    escalated_to_me = with_row_relations(
        Case.objects.filter(state=CaseState.ESCALATED, owner=me), viewer
    ).order_by("due_at")
    stalled = (
        HandOff.objects.filter(state=HandOffState.OPEN)
        .filter(Q(due_at__lt=now) | Q(escalation_level__gt=0))
        .filter(
            # Their own department's, in or out; and whatever a person of their subtree
            # holds or waits on (a director over both departments sees every stall).
            Q(from_department_id=viewer.department_id)
            | Q(to_department_id=viewer.department_id)
            | Q(accountable_id__in=viewer.subtree_ids)
            | Q(case__owner_id__in=viewer.subtree_ids)
        )
        .select_related("case", "accountable__user", "from_department", "to_department")
        .order_by("created_at")
    )
    return Dashboard(
        pending=list(pending_decisions_for(me)),
        escalated_to_me=list(escalated_to_me),
        stalled_handoffs=list(stalled),
        health=_health(viewer, now),
    )


def _health(viewer: Viewer, now: datetime) -> Health:
    late = set(
        _subtree_cases(viewer, now).filter(pk__in=_late_case_ids()).values_list("pk", flat=True)
    )
    rows = list(
        _subtree_cases(viewer, now).values_list(
            "pk", "department__name", "created_at", "first_response_at"
        )
    )
    breaches = list(_subtree_breaches(viewer, now).values_list("escalated_at", flat=True))
    decisions = list(
        ExceptionRequest.objects.filter(
            requested_by_id__in=viewer.subtree_ids, decided_at__gte=now - WINDOW
        )
        .exclude(state=ExceptionState.PENDING)
        .values_list("created_at", "decided_at")
    )
    by_department: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pk, department, _, _ in rows:
        by_department[department][0] += pk not in late
        by_department[department][1] += 1
    per_day = Counter(timezone.localtime(moment).date() for moment in breaches)
    today = timezone.localtime(now).date()
    days = [today - timedelta(days=n) for n in range(29, -1, -1)]
    responses = [first - created for _, _, created, first in rows if first is not None]
    week = _start_of_week(now)
    return Health(
        cases=len(rows),
        on_time=sum(pk not in late for pk, *_ in rows),
        breaches_this_week=sum(moment >= week for moment in breaches),
        median_first_response=median(responses) if responses else None,
        median_time_to_yes=median([d - c for c, d in decisions]) if decisions else None,
        breaches_per_day=[(day, per_day.get(day, 0)) for day in days],
        on_time_by_department=sorted(
            (name, good, total) for name, (good, total) in by_department.items()
        ),
    )


def figure_cases(viewer: Viewer, figure: str, *, now: datetime | None = None) -> QuerySet[Case]:
    """The cases behind a dashboard figure that the viewer may see (a breach or decision in
    their subtree can be on a case they do not); an unknown figure lists nothing."""
    now = now or timezone.now()
    cases = _subtree_cases(viewer, now)
    late = cases.filter(pk__in=_late_case_ids())
    breached = _subtree_breaches(viewer, now)
    if figure == "all":
        chosen = cases
    elif figure == "on-time":
        chosen = cases.exclude(pk__in=late.values("pk"))
    elif figure == "late":
        chosen = late
    elif figure == "breaches-week":
        chosen = Case.objects.filter(
            pk__in=breached.filter(escalated_at__gte=_start_of_week(now)).values("case_id")
        )
    elif figure == "first-response":
        chosen = cases.filter(first_response_at__isnull=False)
    elif figure == "time-to-yes":
        chosen = Case.objects.filter(
            pk__in=ExceptionRequest.objects.filter(
                requested_by_id__in=viewer.subtree_ids, decided_at__gte=now - WINDOW
            ).values("case_id")
        )
    elif figure.startswith("day-"):
        try:
            day = date.fromisoformat(figure[4:])
        except ValueError:
            return Case.objects.none()
        start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
        chosen = Case.objects.filter(
            pk__in=breached.filter(
                escalated_at__gte=start, escalated_at__lt=start + timedelta(days=1)
            ).values("case_id")
        )
    elif figure.startswith("department-"):
        chosen = cases.filter(department__name=figure[len("department-") :])
    else:
        return Case.objects.none()
    chosen = chosen.filter(pk__in=cases_visible_to(viewer).values("pk"))
    return with_row_relations(chosen, viewer).order_by("-created_at")
