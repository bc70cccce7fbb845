"""Deadlines, computed from SLA policies in business time, and stored whenever a case or
hand-off changes hands (never recomputed by scanning).

A case's working deadline is the earlier of its response deadline (first response until the
owner has written to the client, then the next update) and its resolution deadline. An
escalated case gives the person it went to one escalation step. Each deadline comes with
the moment to warn its holder (CASEDESK_WARNING_PERCENT of its business time).
"""

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from casedesk.business_time import BusinessHours, add_business_time, business_time_between
from casedesk.models import BusinessCalendar, Case, DeadlineKind, HandOff, SlaPolicy


@dataclass(frozen=True)
class Deadline:
    due_at: datetime
    kind: DeadlineKind
    warn_at: datetime


def _starting(department_id: int, now: datetime, due_at: datetime, kind: DeadlineKind):
    """A deadline from now, warned once CASEDESK_WARNING_PERCENT of its BUSINESS time has
    passed: inside working hours, never at night or at the weekend."""
    hours = hours_for(department_id)
    share = business_time_between(now, due_at, hours) * warning_fraction()
    warn_at = min(add_business_time(now, share, hours), due_at)
    return Deadline(due_at=due_at, kind=kind, warn_at=warn_at)


def warning_fraction() -> float:
    return settings.CASEDESK_WARNING_PERCENT / 100


@dataclass(frozen=True)
class _Rules:
    """The policies and business hours of some departments, read once for a batch."""

    departments: frozenset[int]
    policies: dict[tuple[int, str], SlaPolicy]
    hours: dict[int, BusinessHours]


_loaded: ContextVar[_Rules | None] = ContextVar("casedesk_deadline_rules", default=None)


@contextmanager
def rules_loaded(department_ids: Iterable[int]):
    """Inside the block, policy_for and hours_for answer for these departments from what
    two queries read here, not from a query each time (the sweep computes hundreds of
    deadlines at once; a calendar's public holidays are worked out once, not per deadline)."""
    departments = frozenset(department_ids)
    policies = SlaPolicy.objects.filter(department_id__in=departments)
    calendars = BusinessCalendar.objects.filter(department_id__in=departments)
    token = _loaded.set(
        _Rules(
            departments=departments,
            policies={(p.department_id, p.priority): p for p in policies},
            hours={calendar.department_id: calendar.hours() for calendar in calendars},
        )
    )
    try:
        yield
    finally:
        _loaded.reset(token)


def policy_for(department_id: int, priority: str) -> SlaPolicy:
    """The department's policy for this priority, or the defaults when none is set."""
    rules = _loaded.get()
    if rules is not None and department_id in rules.departments:
        policy = rules.policies.get((department_id, priority))
    else:
        policy = SlaPolicy.objects.filter(department_id=department_id, priority=priority).first()
    return policy or SlaPolicy(department_id=department_id, priority=priority)


def hours_for(department_id: int) -> BusinessHours:
    return _hours(
        department_id, lambda: BusinessCalendar.objects.filter(department_id=department_id).first()
    )


def hours_of(department) -> BusinessHours:
    """hours_for, of a department read with its calendar (select_related): no query."""
    return _hours(department.pk, lambda: getattr(department, "calendar", None))


def _hours(department_id: int, read_calendar) -> BusinessHours:
    rules = _loaded.get()
    if rules is not None and department_id in rules.departments:
        hours = rules.hours.get(department_id)
    else:
        calendar = read_calendar()
        hours = calendar.hours() if calendar is not None else None
    return hours or BusinessHours(zone=ZoneInfo(settings.TIME_ZONE))


def _later(department_id: int, start: datetime, duration: timedelta) -> datetime:
    return add_business_time(start, duration, hours_for(department_id))


def resolution_due(case: Case, *, now: datetime) -> datetime:
    policy = policy_for(case.department_id, case.priority)
    return _later(case.department_id, now, policy.resolution)


def working_deadline(case: Case, *, now: datetime) -> Deadline:
    """The owner's next deadline while working the case (open or waiting on a hand-off)."""
    policy = policy_for(case.department_id, case.priority)
    if case.first_response_at is None:
        response = _later(case.department_id, case.created_at, policy.first_response)
        if response <= now:
            # Missed already (and escalated for it): whoever holds it now gets the full time
            # again, or the case would sit on a deadline that can never escalate twice.
            response = _later(case.department_id, now, policy.first_response)
        kind = DeadlineKind.FIRST_RESPONSE
    else:
        response = _later(case.department_id, now, policy.next_update)
        kind = DeadlineKind.NEXT_UPDATE
    resolution = case.resolution_due_at
    if resolution and now < resolution < response:
        return _starting(case.department_id, now, resolution, DeadlineKind.RESOLUTION)
    return _starting(case.department_id, now, response, kind)


def escalation_deadline(case: Case, *, now: datetime) -> Deadline:
    policy = policy_for(case.department_id, case.priority)
    due = _later(case.department_id, now, policy.escalation_step)
    return _starting(case.department_id, now, due, DeadlineKind.ESCALATION)


def handoff_deadline(handoff: HandOff, *, now: datetime, escalated: bool = False) -> Deadline:
    """The receiving department's time to answer, by its own policy and hours."""
    policy = policy_for(handoff.to_department_id, handoff.case.priority)
    duration = policy.escalation_step if escalated else policy.handoff_response
    due = _later(handoff.to_department_id, now, duration)
    kind = DeadlineKind.ESCALATION if escalated else DeadlineKind.FIRST_RESPONSE
    return _starting(handoff.to_department_id, now, due, kind)


def client_reopen_until(case: Case) -> datetime | None:
    """Until when the client may reopen a closed case themselves (None: it is not closed)."""
    if case.closed_at is None:
        return None
    return case.closed_at + timedelta(days=settings.CASEDESK_CLIENT_REOPEN_DAYS)


def client_reply_deadline(case: Case, *, now: datetime) -> Deadline:
    """While the clock is paused: how long the client may take before someone decides."""
    policy = policy_for(case.department_id, case.priority)
    due = _later(case.department_id, now, policy.resolution)
    return _starting(case.department_id, now, due, DeadlineKind.CLIENT_REPLY)


def remaining(case: Case, *, now: datetime) -> timedelta:
    return business_time_between(now, case.due_at, hours_for(case.department_id))


def resumed(case: Case, *, now: datetime) -> Deadline:
    """The deadline a pause stopped, with the working time it had left. The resolution
    deadline pauses with it: it moves on by the working time the pause took, so it can
    neither lapse unseen during the pause nor be lost."""
    paused_since = case.waiting_on_client_since or now
    hours = hours_for(case.department_id)
    if case.resolution_due_at and case.resolution_due_at > paused_since:
        left = business_time_between(paused_since, case.resolution_due_at, hours)
        case.resolution_due_at = add_business_time(now, left, hours)
    due = _later(case.department_id, now, case.paused_remaining or timedelta(0))
    kind = DeadlineKind(case.paused_kind or "next_update")
    if case.resolution_due_at and now < case.resolution_due_at < due:
        due, kind = case.resolution_due_at, DeadlineKind.RESOLUTION
    return _starting(case.department_id, now, due, kind)
