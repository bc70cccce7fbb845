"""What the sweep finds due, and how it claims it: by indexed deadlines, a batch at a time.

`anything_due` asks in one query which kinds of work have anything to do (an EXISTS per
kind, each answered from a (state, due_at) or (state, warn_at) index), so a sweep with
nothing due costs one query. A claim locks a batch of due items, oldest deadline first,
skipping rows another transaction holds (SKIP LOCKED: nothing blocks the sweep, the next
sweep takes them), locks the case before its item as every writer does (no deadlock with
someone acting on it), and re-checks in the same statement that each is still due.
"""

import functools
from collections.abc import Collection, Sequence
from datetime import datetime

from django.db import connection
from django.db.models import DateTimeField, QuerySet
from django.db.models.expressions import RawSQL

from casedesk import batching
from casedesk.models import ACTIVE_STATES, Case
from escalation.held import Kind


def due(kind: Kind | None, now: datetime, *, overdue: bool) -> QuerySet:
    """Cases (kind None) or a kind's held items past their deadline (overdue) or due a
    warning and not yet past it (the deadline's escalation comes instead of a warning)."""
    held = Case.objects.filter(state__in=ACTIVE_STATES) if kind is None else kind.held()
    return _by_deadline(held, now, overdue=overdue)


def _by_deadline(held: QuerySet, now: datetime | RawSQL, *, overdue: bool) -> QuerySet:
    if overdue:
        return held.filter(due_at__lte=now)
    return held.filter(warn_at__lte=now, due_at__gt=now)


def _maybe_due(kind: Kind | None, now: RawSQL, *, overdue: bool) -> QuerySet:
    """`due` by the item's own state and deadline, without the join to its case's state:
    half the planning time of the empty sweep's one query. A closing case withdraws what
    it holds (casedesk.settling), so none should be found on a closed case; one that was
    would cost a claim that finds nothing, never a wrong escalation."""
    if kind is None:
        return due(None, now, overdue=overdue)
    return _by_deadline(kind.model.objects.filter(state=kind.active), now, overdue=overdue)


def anything_due(wanted: Sequence[tuple[Kind | None, bool]], now: datetime) -> list[bool]:
    """For each (kind, overdue), whether anything may be due at `now`, in one query."""
    sql, params = _exists_each(tuple(wanted), connection.vendor)
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [at if param is _NOW else param for param in params])
        return [bool(answer) for answer in cursor.fetchone()]


class _Now:
    """Stands for the sweep's `now` in SQL compiled once per process."""


_NOW = _Now()


@functools.cache
def _exists_each(wanted: tuple[tuple[Kind | None, bool], ...], vendor: str) -> tuple[str, list]:
    """SELECT EXISTS(...), EXISTS(...): each stops at its first row (no ordering). Compiled
    once: building and compiling eight querysets would cost the empty sweep more than the
    query itself."""
    now = RawSQL("%s", [_NOW], output_field=DateTimeField())
    parts, params = [], []
    for kind, overdue in wanted:
        queryset = _maybe_due(kind, now, overdue=overdue).order_by().values("pk")[:1]
        sql, part_params = queryset.query.sql_with_params()
        parts.append(f"EXISTS ({sql})")
        params.extend(part_params)
    return "SELECT " + ", ".join(parts), params


def explain_anything_due(wanted: Sequence[tuple[Kind | None, bool]], now: datetime) -> str:
    """The plan of anything_due's query (EXPLAIN ANALYZE, PostgreSQL), for `make bench`."""
    sql, params = _exists_each(tuple(wanted), connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE {sql}", [now if p is _NOW else p for p in params])
        return "\n".join(row[0] for row in cursor.fetchall())


def claim_cases(
    now: datetime, *, overdue: bool, limit: int, skip: Collection[int] = (), only=None
) -> list[Case]:
    """Lock up to `limit` due cases, oldest deadline first, skipping held rows (and `skip`,
    the ones this sweep claimed already); `only`: these ids alone."""
    cases = due(None, now, overdue=overdue).exclude(pk__in=skip)
    if only is not None:
        cases = cases.filter(pk__in=only)
    claimed = list(cases.select_for_update(skip_locked=True).order_by("due_at", "pk")[:limit])
    batching.remember(claimed)
    return claimed


def claim_items(
    kind: Kind, now: datetime, *, overdue: bool, limit: int, skip: Collection[int] = (), only=None
) -> list:
    """Lock up to `limit` due items of a kind with their cases: first up to `limit` of the
    cases holding due items (SKIP LOCKED fills the batch past a case someone holds, so one
    person's open transaction holds up nothing else), then the due items on those cases,
    oldest deadline first; each item's `case` is its locked case, one instance per case
    (two hand-offs of one case touch the same row)."""
    items = due(kind, now, overdue=overdue).exclude(pk__in=skip)
    if only is not None:
        items = items.filter(pk__in=only)
    # No order on the cases: ordering a million-row table to pick a hundred would cost more
    # than the sweep; every due item is taken by this sweep anyway, batch after batch.
    cases = Case.objects.select_for_update(skip_locked=True).filter(
        pk__in=items.order_by().values("case_id")
    )[:limit]
    locked = {case.pk: case for case in cases}
    if not locked:
        return []
    batching.remember(locked.values())
    claimed = list(
        items.filter(case_id__in=locked)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("due_at", "pk")[:limit]
    )
    for item in claimed:
        item.case = locked[item.case_id]
    batching.remember(claimed)
    return claimed
