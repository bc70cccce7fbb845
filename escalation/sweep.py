"""The periodic sweep: select only what is due, by indexed deadlines, and handle each item.

Its cost grows with the number of due items, not with the number of open cases: one query
each on cases, hand-offs, exception requests and call-backs finds what is due (or due a
warning), then each item is claimed and handled in its own transaction (escalation.services).
Safe to run concurrently.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from casedesk.models import ACTIVE_STATES, CallBack, CallBackState, Case, HandOff, HandOffState
from casedesk.notifications import notifications_deliver_pending
from escalation import exceptions, services
from escalation.models import ExceptionRequest, ExceptionState

log = logging.getLogger(__name__)
BATCH = 1000  # items per sweep; the next sweep takes the rest


@dataclass
class SweepReport:
    escalated: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)
    delivered: int = 0

    @property
    def lines(self) -> list[str]:
        return [f"escalated {line}" for line in self.escalated] + [
            f"warned {line}" for line in self.warned
        ]


class _RollBack(Exception):
    """Ends a dry run's transaction, undoing everything it did."""


def sweep(*, now: datetime | None = None, dry_run: bool = False) -> SweepReport:
    """Escalate and warn what is due at `now`, then deliver the outbox.

    A dry run is the same sweep inside one transaction that is rolled back, delivering
    nothing: it reports exactly what a real run at that instant would do.
    """
    now = now or timezone.now()
    if not dry_run:
        report = _sweep_due(now)
        report.delivered = notifications_deliver_pending(now=now)
        return report
    report = SweepReport()
    try:
        with transaction.atomic():
            report = _sweep_due(now)
            raise _RollBack
    except _RollBack:
        pass
    return report


def _sweep_due(now: datetime) -> SweepReport:
    report = SweepReport()
    work = [
        (due_cases, "case_id", services.case_escalate_overdue, services.case_warn_before_breach),
        (
            due_handoffs,
            "handoff_id",
            services.handoff_escalate_overdue,
            services.handoff_warn_before_breach,
        ),
    ]
    work.append((due_exceptions, "request_id", exceptions.exception_escalate_overdue, _no_warning))
    work.append(
        (
            due_callbacks,
            "callback_id",
            services.callback_escalate_overdue,
            services.callback_warn_before_breach,
        )
    )
    for select, key, escalate, warn in work:
        for pk, due_at in select(now):
            overdue = due_at <= now
            _collect(
                report.escalated if overdue else report.warned,
                escalate if overdue else warn,
                **{key: pk, "now": now},
            )
    return report


def due_cases(now: datetime):
    """(id, due_at) of active cases past their deadline or their warning time: one query,
    answered from the (state, due_at) and (state, warn_at) indexes."""
    due_or_warn = Q(due_at__lte=now) | Q(warn_at__lte=now)
    return (
        Case.objects.filter(due_or_warn, state__in=ACTIVE_STATES)
        .order_by("due_at")
        .values_list("pk", "due_at")[:BATCH]
    )


def due_handoffs(now: datetime):
    due_or_warn = Q(due_at__lte=now) | Q(warn_at__lte=now)
    return (
        HandOff.objects.filter(due_or_warn, state=HandOffState.OPEN, case__state__in=ACTIVE_STATES)
        .order_by("due_at")
        .values_list("pk", "due_at")[:BATCH]
    )


def due_exceptions(now: datetime):
    return (
        ExceptionRequest.objects.filter(
            state=ExceptionState.PENDING, due_at__lte=now, case__state__in=ACTIVE_STATES
        )
        .order_by("due_at")
        .values_list("pk", "due_at")[:BATCH]
    )


def due_callbacks(now: datetime):
    """Booked call-backs past their time or their reminder, by the (state, due_at) and
    (state, warn_at) indexes. A call promised to a client stands even if the case closed."""
    due_or_warn = Q(due_at__lte=now) | Q(warn_at__lte=now)
    return (
        CallBack.objects.filter(due_or_warn, state=CallBackState.PENDING)
        .order_by("due_at")
        .values_list("pk", "due_at")[:BATCH]
    )


def _no_warning(**kwargs) -> None:
    return None  # due_exceptions selects only overdue requests


def _collect(lines: list[str], handle, **kwargs) -> None:
    """Run one item's handler; another sweep winning the race is not an error."""
    try:
        line = handle(**kwargs)
    except IntegrityError:
        # The same missed deadline was escalated already (a concurrent sweep won the race).
        log.warning("already escalated, skipped: %s", kwargs)
        return
    except DatabaseError:
        log.exception("sweep item failed: %s", kwargs)
        return
    if line:
        lines.append(line)
