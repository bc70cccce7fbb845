"""The periodic sweep: select only what is due, by indexed deadlines, a batch at a time.

Its cost grows with the number of due items, not with the number of open cases. One query
asks whether anything is due at all (escalation.due.anything_due); for each kind of work
that has something, batches of due items are claimed and handled, each batch in its own
transaction with a fixed number of queries (escalation.services), until none is left.
Safe to run concurrently: claims skip what another sweep holds, and an Escalation row is
unique per missed deadline. It sends no email: the outbox rows it writes are delivered on the
mail queue (casedesk.tasks), so escalation never waits behind a slow relay.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from escalation import due, services
from escalation.held import KINDS, Kind

log = logging.getLogger(__name__)
# Items per transaction: large enough that the fixed queries of a batch cost little per
# item, small enough that the cases it locks are held for a fraction of a second.
BATCH = 100


@dataclass
class SweepReport:
    escalated: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [f"escalated {line}" for line in self.escalated] + [
            f"warned {line}" for line in self.warned
        ]


@dataclass(frozen=True)
class Work:
    """One kind of due work: the cases (kind None) or a kind of held item, past its
    deadline (overdue) or due a warning."""

    kind: Kind | None
    overdue: bool

    def __str__(self) -> str:
        what = self.kind.name if self.kind else "case"
        return f"overdue {what}s" if self.overdue else f"warnings of {what}s"

    def claim(self, now: datetime, **limits) -> list:
        if self.kind is None:
            return due.claim_cases(now, overdue=self.overdue, **limits)
        return due.claim_items(self.kind, now, overdue=self.overdue, **limits)

    def handle(self, claimed: list, now: datetime) -> list[str]:
        if self.kind is None and self.overdue:
            return services.cases_escalate_overdue(cases=claimed, now=now)
        if self.kind is None:
            return services.cases_warn_before_breach(cases=claimed, now=now)
        if self.overdue:
            return services.items_escalate_overdue(kind=self.kind, items=claimed, now=now)
        return services.items_warn_before_breach(kind=self.kind, items=claimed, now=now)


# Cases first, then each kind of held item (as the report lists them); a deadline's
# escalation before the warnings.
WORK = [Work(kind, overdue) for kind in (None, *KINDS) for overdue in (True, False)]


class _RollBack(Exception):
    """Ends a dry run's transaction, undoing everything it did."""


def sweep(*, now: datetime | None = None, dry_run: bool = False) -> SweepReport:
    """Escalate and warn what is due at `now`.

    A dry run is the same sweep inside one transaction that is rolled back: it reports
    exactly what a real run at that instant would do.
    """
    now = now or timezone.now()
    if not dry_run:
        return sweep_due(now=now)
    report = SweepReport()
    try:
        with transaction.atomic():
            report = sweep_due(now=now)
            raise _RollBack
    except _RollBack:
        pass
    return report


def sweep_due(*, now: datetime) -> SweepReport:
    """The sweep's escalations and warnings (everything but delivering email)."""
    report = SweepReport()
    anything = due.anything_due([(work.kind, work.overdue) for work in WORK], now)
    for work, found in zip(WORK, anything, strict=True):
        if found:
            lines = _work_through(work, now)
            (report.escalated if work.overdue else report.warned).extend(lines)
    return report


def _work_through(work: Work, now: datetime) -> list[str]:
    """Batch after batch until a claim comes back short: the rest is held by another
    sweep, or there is none. What was claimed is not claimed again by this sweep, so a
    deadline found escalated already cannot hold up the ones behind it."""
    lines: list[str] = []
    claimed_ids: set[int] = set()
    while True:
        claimed = []
        try:
            with transaction.atomic():
                claimed = work.claim(now, limit=BATCH, skip=claimed_ids)
                done = work.handle(claimed, now)
            lines += done  # only once committed
        # Any error, not only the database's: one bad item (a call-back's unknown time zone,
        # a transition refused) must not stop the batch, the kinds after it, every sweep.
        except Exception:
            log.exception("sweep batch failed, taking its items one at a time: %s", work)
            lines += _one_at_a_time(work, [item.pk for item in claimed], now)
        claimed_ids.update(item.pk for item in claimed)
        if len(claimed) < BATCH:
            return lines


def _one_at_a_time(work: Work, ids: list[int], now: datetime) -> list[str]:
    """A failed batch again, an item per transaction, so one bad item cannot hold up the
    others (it is logged, and taken again by the next sweep)."""
    lines = []
    for pk in ids:
        try:
            with transaction.atomic():
                done = work.handle(work.claim(now, limit=1, only=[pk]), now)
            lines += done
        except Exception:
            log.exception("sweep item failed: %s %s", work, pk)
    return lines
