"""Escalating what is overdue and warning before it is: the sweep's per-item actions.

Each function handles one item in its own transaction, claims it (row lock with SKIP
LOCKED, then re-checks that it is still due), writes an Escalation row that the database
keeps unique per missed deadline, and returns a line describing what it did, or None when
there was nothing (left) to do. Calling one twice does nothing the second time.

Cases escalate through casedesk.services.case_escalate, like a person's escalation.
Hand-offs, call-backs and exception requests go through one pair of functions,
item_escalate_overdue and item_warn_before_breach, told what differs by an escalation.held
Kind.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from accounts.chain import chain_of
from accounts.models import StaffProfile
from casedesk import services
from casedesk.actors import SYSTEM
from casedesk.changes import record, touch
from casedesk.models import ACTIVE_STATES, Case, EventKind
from casedesk.notifications import notify
from escalation.held import Kind, Told, late, local
from escalation.models import Escalation


def _claim_with_case(still_due: QuerySet, pk: int):
    """Lock an item's case, then the item, in the order every writer uses (no deadlocks),
    skipping rows another sweep holds. (case, item), or (None, None) when either is taken
    or the item is no longer due."""
    case_ids = still_due.model.objects.filter(pk=pk).values("case_id")
    case = Case.objects.select_for_update(skip_locked=True).filter(pk__in=case_ids).first()
    item = still_due.select_for_update(skip_locked=True, of=("self",)).filter(pk=pk).first()
    return (case, item) if case is not None and item is not None else (None, None)


@transaction.atomic
def case_escalate_overdue(*, case_id: int, now: datetime) -> str | None:
    case = (
        Case.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("owner__user", "owner__manager__user")
        .filter(pk=case_id, state__in=ACTIVE_STATES, due_at__lte=now)
        .first()
    )
    if case is None:
        return None  # another sweep holds it, or it is no longer due
    chain = chain_of(case.owner)
    to = chain[0] if chain else None
    kind = case.get_due_kind_display() or "response"
    missed = f"the {kind} deadline ({local(case.due_at)}) passed {late(case.due_at, now)}"
    line = f"{case.reference}: {missed}; {case.owner.name} → " + _destination(to)
    # A breach already standing at the top re-armed; a first miss there is a new one.
    _escalation_row(case, case, to, case.due_kind, now, repeat=case.late_since is not None)
    services.case_escalate(case=case, actor=SYSTEM, reason=f"Automatic: {missed}.", now=now)
    return line


@transaction.atomic
def case_warn_before_breach(*, case_id: int, now: datetime) -> str | None:
    """Warn the holder once. The claim skips a case another transaction holds (someone
    acting on it, another sweep): nothing blocks the sweep; the next one takes it."""
    case = (
        Case.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("owner__user")
        .filter(pk=case_id, state__in=ACTIVE_STATES, warn_at__lte=now, due_at__isnull=False)
        .first()
    )
    if case is None:
        return None
    line = f"{case.reference}: warned {case.owner.name}, due {local(case.due_at)}"
    Case.objects.filter(pk=case_id).update(warn_at=None)
    kind = case.get_due_kind_display() or "next"
    record(
        case,
        SYSTEM,
        EventKind.WARNED,
        reason=f"Reminder sent: the {kind} deadline is {local(case.due_at)}.",
        target=case.owner,
        at=now,
    )
    notify(
        people=[case.owner],
        case=case,
        now=now,
        subject=f"{case.reference}: {kind} due {local(case.due_at)}",
        body=f"The {kind} deadline of {case.reference} is {local(case.due_at)}. "
        "If it passes, the case goes to your supervisor.",
    )
    return line


@transaction.atomic
def item_escalate_overdue(*, kind: Kind, item_id: int, now: datetime) -> str | None:
    """One missed deadline of a held item: up to the next person (kind.next_up) on a fresh
    deadline, or, with nobody above, it stays with its holder, flagged. The new holder and
    the previous one (and whoever the kind names) are told; at the top nobody is told at
    once: the daily digest lists it."""
    due = kind.held().select_related(*kind.related).filter(due_at__lte=now)
    case, item = _claim_with_case(due, item_id)
    if item is None:
        return None
    previous, to = item.holder, kind.next_up(item)
    missed = kind.missed(item, now)
    line = f"{case.reference} {kind.name}: {missed}; {previous.name} → " + _destination(to)
    first = kind.first_kind if item.escalation_level == 0 else "escalation"
    _escalation_row(case, item, to, first, now, repeat=item.at_top_of_chain, **{kind.link: item})
    deadline = kind.deadline(item, case, now)
    item.climb(to=to, due_at=deadline.due_at, warn_at=deadline.warn_at)
    item.save()
    touch(case, now)
    told = kind.climbed(item, case, previous=previous, to=to, missed=missed)
    _record(case, kind, item, told, now)
    if to is not None:
        notify(people=told.people, case=case, subject=told.subject, body=told.body, now=now)
    return line


@transaction.atomic
def item_warn_before_breach(*, kind: Kind, item_id: int, now: datetime) -> str | None:
    """Warn the holder once, before the breach; the case is locked before the item, as by
    every writer (no deadlock with someone answering it meanwhile)."""
    due = kind.held().select_related(*kind.related).filter(warn_at__lte=now)
    case, item = _claim_with_case(due, item_id)
    if item is None:
        return None
    item.warn_at = None
    item.save(update_fields=["warn_at"])
    told = kind.warning(item, case)
    _record(case, kind, item, told, now)
    notify(people=[item.holder], case=case, subject=told.subject, body=told.body, now=now)
    return f"{case.reference} {kind.name}: {kind.warned} {item.holder.name}"


def _destination(to: StaffProfile | None) -> str:
    return to.name if to else "stays with them (top of the chain), flagged"


def _escalation_row(
    case: Case, item, to: StaffProfile | None, first: str, now, *, repeat: bool, **link
):
    """The row unique per missed deadline: a second sweep cannot write it again. A deadline
    re-armed at the top passing again is a repeat, not a new miss."""
    Escalation.objects.create(
        case=case,
        repeat=repeat,
        deadline_due_at=item.due_at,
        deadline_kind=first,
        level=item.escalation_level + (1 if to else 0),
        from_person=case.owner if item is case else item.holder,
        to_person=to,
        escalated_at=now,
        **link,
    )


def _record(case: Case, kind: Kind, item, told: Told, now: datetime) -> None:
    record(
        case,
        SYSTEM,
        told.event,
        reason=told.reason,
        target=item.holder,
        handoff=item if kind.link == "handoff" else None,  # the timeline links hand-offs
        client_visible=told.client_visible,
        at=now,
    )
