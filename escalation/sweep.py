"""The periodic sweep: select only what is due, by indexed deadlines, and handle each item.

Its cost grows with the number of due items, not with the number of open cases: one query
each on cases, hand-offs, exception requests and call-backs finds what is due (or due a
warning), then each item is claimed and handled in its own transaction (escalation.services).
Safe to run concurrently. It sends no email: the outbox rows it writes are delivered on the
mail queue (casedesk.tasks), so escalation never waits behind a slow relay.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from casedesk.models import ACTIVE_STATES, Case
from escalation import services
from escalation.held import KINDS

log = logging.getLogger(__name__)
BATCH = 1000  # items per sweep; the next sweep takes the rest


@dataclass
class SweepReport:
    escalated: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [f"escalated {line}" for line in self.escalated] + [
            f"warned {line}" for line in self.warned
        ]


class _RollBack(Exception):
    """Ends a dry run's transaction, undoing everything it did."""


def sweep(*, now: datetime | None = None, dry_run: bool = False) -> SweepReport:
    """Escalate and warn what is due at `now`.

    A dry run is the same sweep inside one transaction that is rolled back: it reports
    exactly what a real run at that instant would do.
    """
    now = now or timezone.now()
    if not dry_run:
        return _sweep_due(now)
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
    for case_id, due_at in _due(Case.objects.filter(state__in=ACTIVE_STATES), now):
        overdue = due_at <= now
        _collect(
            report.escalated if overdue else report.warned,
            services.case_escalate_overdue if overdue else services.case_warn_before_breach,
            case_id=case_id,
            now=now,
        )
    for kind in KINDS:
        for item_id, due_at in _due(kind.held(), now):
            overdue = due_at <= now
            _collect(
                report.escalated if overdue else report.warned,
                services.item_escalate_overdue if overdue else services.item_warn_before_breach,
                kind=kind,
                item_id=item_id,
                now=now,
            )
    return report


def _due(held: QuerySet, now: datetime):
    """(id, due_at) of what is held past its deadline or its warning time: one query per
    kind, answered from its (state, due_at) and (state, warn_at) indexes."""
    due_or_warn = Q(due_at__lte=now) | Q(warn_at__lte=now)
    return held.filter(due_or_warn).order_by("due_at").values_list("pk", "due_at")[:BATCH]


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
