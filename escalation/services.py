"""Escalating what is overdue and warning before it is: the sweep's per-item writes.

Each function handles one item in its own transaction, claims it (row lock with SKIP
LOCKED, then re-checks that it is still due), writes an Escalation row that the database
keeps unique per missed deadline, and returns a line describing what it did, or None when
there was nothing (left) to do. Calling one twice does nothing the second time.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.timesince import timesince

from accounts.chain import chain_of, is_above, lowest_common_manager
from accounts.models import StaffProfile
from casedesk import deadlines, services
from casedesk.actors import SYSTEM
from casedesk.changes import record, touch
from casedesk.models import (
    ACTIVE_STATES,
    CallBack,
    CallBackState,
    Case,
    EventKind,
    HandOff,
    HandOffState,
)
from casedesk.notifications import notify
from casedesk.plain_words import client_time
from escalation.models import Escalation


def claim_with_case(still_due: QuerySet, pk: int):
    """Lock an item's case, then the item, in the order every writer uses (no deadlocks),
    skipping rows another sweep holds. (case, item), or (None, None) when either is taken
    or the item is no longer due."""
    case_ids = still_due.model.objects.filter(pk=pk).values("case_id")
    case = Case.objects.select_for_update(skip_locked=True).filter(pk__in=case_ids).first()
    item = still_due.select_for_update(skip_locked=True, of=("self",)).filter(pk=pk).first()
    return (case, item) if case is not None and item is not None else (None, None)


def _late(due_at: datetime, now: datetime) -> str:
    return "just now" if now - due_at < timedelta(minutes=1) else f"{timesince(due_at, now)} ago"


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%a %d %b %H:%M %Z")


def climb(
    item,
    *,
    case: Case,
    to: StaffProfile | None,
    deadline: deadlines.Deadline,
    first_kind: str,
    now: datetime,
    **link,
) -> StaffProfile:
    """One missed deadline of a hand-off, call-back or exception request, escalated: the
    Escalation row (unique per deadline, so a second sweep cannot write it again), then the
    item moves to `to` (None: it stays, flagged at the top) on a fresh deadline by its
    `climb` transition. `link` names the item on the row. Returns who holds it."""
    current = item.holder
    Escalation.objects.create(
        case=case,
        repeat=item.at_top_of_chain,
        deadline_due_at=item.due_at,
        deadline_kind=first_kind if item.escalation_level == 0 else "escalation",
        level=item.escalation_level + (1 if to else 0),
        from_person=current,
        to_person=to,
        escalated_at=now,
        **link,
    )
    item.climb(to=to, due_at=deadline.due_at, warn_at=deadline.warn_at)
    item.save()
    touch(case, now)
    return to or current


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
    missed = f"the {kind} deadline ({_local(case.due_at)}) passed {_late(case.due_at, now)}"
    line = f"{case.reference}: {missed}; {case.owner.name} → " + (
        to.name if to else "stays with them (top of the chain), flagged"
    )
    Escalation.objects.create(
        case=case,
        repeat=case.at_top_of_chain,
        deadline_due_at=case.due_at,
        deadline_kind=case.due_kind,
        level=case.escalation_level + (1 if to else 0),
        from_person=case.owner,
        to_person=to,
        escalated_at=now,
    )
    services.case_escalate(case=case, actor=SYSTEM, reason=f"Automatic: {missed}.", now=now)
    return line


@transaction.atomic
def handoff_escalate_overdue(*, handoff_id: int, now: datetime) -> str | None:
    """Move an unanswered hand-off one level up the RECEIVING department's chain; past its
    top, to the lowest manager over both departments; past that, keep it there, flagged."""
    case, handoff = claim_with_case(
        HandOff.objects.select_related(
            "accountable__user", "accountable__manager", "to_department"
        ).filter(state=HandOffState.OPEN, due_at__lte=now),
        handoff_id,
    )
    if handoff is None:
        return None
    current = handoff.accountable
    to = _next_up_for_handoff(handoff, current)
    missed = (
        f"the hand-off to {handoff.to_department} was not answered by its deadline "
        f"({_local(handoff.due_at)}, {_late(handoff.due_at, now)})"
    )
    line = f"{case.reference} hand-off: {missed}; {current.name} → " + (
        to.name if to else "stays with them (top of both chains), flagged"
    )
    holder = climb(
        handoff,
        case=case,
        to=to,
        deadline=deadlines.handoff_deadline(handoff, now=now, escalated=True),
        first_kind="first_response",
        now=now,
        handoff=handoff,
    )
    record(
        case,
        SYSTEM,
        EventKind.HANDOFF_ESCALATED,
        reason=f"Automatic: {missed}. Now with {holder.name}, due {_local(handoff.due_at)}.",
        target=holder,
        handoff=handoff,
        at=now,
    )
    if to is None:
        return line  # at the top of both chains, nobody at once: the daily digest lists it
    # Both departments' supervisors hear of it: the requesting side's through the
    # requester's manager, the receiving side's as the previous or the new holder.
    notify(
        people=[holder, current, handoff.requested_by, handoff.requested_by.manager],
        case=case,
        now=now,
        subject=f"{case.reference}: hand-off to {handoff.to_department} escalated",
        body=f"{missed.capitalize()}. It is now with {holder.name}"
        + (
            " (who can convene both departments)"
            if to and to.department_id != handoff.to_department_id
            else ""
        )
        + f", due {_local(handoff.due_at)}.",
    )
    return line


def _next_up_for_handoff(handoff: HandOff, current: StaffProfile) -> StaffProfile | None:
    manager = current.manager
    if manager is not None and manager.department_id == handoff.to_department_id:
        return manager
    common = lowest_common_manager(handoff.from_department, handoff.to_department)
    if common is not None and is_above(common, current):
        return common
    return None


@transaction.atomic
def case_warn_before_breach(*, case_id: int, now: datetime) -> str | None:
    """Warn the holder once: the conditional update is the claim."""
    case = Case.objects.select_related("owner__user").filter(pk=case_id).first()
    if case is None or case.warn_at is None or case.warn_at > now or case.due_at is None:
        return None
    line = f"{case.reference}: warned {case.owner.name}, due {_local(case.due_at)}"
    claimed = Case.objects.filter(pk=case_id, warn_at=case.warn_at).update(warn_at=None)
    if claimed != 1:
        return None
    kind = case.get_due_kind_display() or "next"
    record(
        case,
        SYSTEM,
        EventKind.WARNED,
        reason=f"Reminder sent: the {kind} deadline is {_local(case.due_at)}.",
        target=case.owner,
        at=now,
    )
    notify(
        people=[case.owner],
        case=case,
        now=now,
        subject=f"{case.reference}: {kind} due {_local(case.due_at)}",
        body=f"The {kind} deadline of {case.reference} is {_local(case.due_at)}. "
        "If it passes, the case goes to your supervisor.",
    )
    return line


@transaction.atomic
def handoff_warn_before_breach(*, handoff_id: int, now: datetime) -> str | None:
    """Warn the accountable person once; the case is locked before the hand-off, as by
    every writer (no deadlock with someone answering it meanwhile)."""
    case, handoff = claim_with_case(
        HandOff.objects.select_related("accountable__user", "from_department").filter(
            state=HandOffState.OPEN, warn_at__lte=now
        ),
        handoff_id,
    )
    if handoff is None:
        return None
    line = f"{case.reference} hand-off: warned {handoff.accountable.name}"
    handoff.warn_at = None
    handoff.save(update_fields=["warn_at"])
    record(
        case,
        SYSTEM,
        EventKind.WARNED,
        reason=f"Reminder sent: the hand-off is due {_local(handoff.due_at)}.",
        target=handoff.accountable,
        handoff=handoff,
        at=now,
    )
    notify(
        people=[handoff.accountable],
        case=case,
        now=now,
        subject=f"{case.reference}: hand-off due {_local(handoff.due_at)}",
        body=f"{handoff.from_department} is waiting on your answer by {_local(handoff.due_at)}. "
        "If it passes, the hand-off goes to your supervisor.",
    )
    return line


@transaction.atomic
def callback_escalate_overdue(*, callback_id: int, now: datetime) -> str | None:
    """A call-back whose time passed without the call goes to the holder's manager, who
    gets one escalation step to make it; at the top of the chain it stays there, flagged."""
    case, callback = claim_with_case(
        CallBack.objects.select_related("accountable__user", "accountable__manager__user").filter(
            state=CallBackState.PENDING, due_at__lte=now
        ),
        callback_id,
    )
    if callback is None:
        return None
    current = callback.accountable
    chain = chain_of(current)
    to = chain[0] if chain else None
    asked_for = client_time(callback.requested_for, callback.time_zone)
    line = f"{case.reference} call-back ({asked_for}) missed; {current.name} → " + (
        to.name if to else "stays with them (top of the chain), flagged"
    )
    holder = climb(
        callback,
        case=case,
        to=to,
        deadline=deadlines.escalation_deadline(case, now=now),
        first_kind="callback",
        now=now,
        callback=callback,
    )
    record(
        case,
        SYSTEM,
        EventKind.CALLBACK_ESCALATED,
        reason=f"Automatic: the call booked for {asked_for} did not happen. "
        f"{holder.name}, {holder.title}, will call you by {_local(callback.due_at)}.",
        target=holder,
        # The client hears of a new person; a reminder to the top of the chain is internal.
        client_visible=to is not None,
        at=now,
    )
    if to is None:
        return line  # at the top of the chain, nobody at once: the daily digest lists it
    notify(
        people=[holder, current],
        case=case,
        now=now,
        subject=f"{case.reference}: missed call-back, now with {holder.name}",
        body=f"{case.client.name} asked to be called on {callback.phone} at {asked_for}; "
        f"the call was not marked done. {holder.name} now has it, due {_local(callback.due_at)}.",
    )
    return line


@transaction.atomic
def callback_warn_before_breach(*, callback_id: int, now: datetime) -> str | None:
    """Remind the holder shortly before the call; the case is locked first, as by every
    writer, so a client rebooking meanwhile waits or is skipped, never deadlocks."""
    case, callback = claim_with_case(
        CallBack.objects.select_related("accountable__user").filter(
            state=CallBackState.PENDING, warn_at__lte=now
        ),
        callback_id,
    )
    if callback is None:
        return None
    line = f"{case.reference} call-back: reminded {callback.accountable.name}"
    callback.warn_at = None
    callback.save(update_fields=["warn_at"])
    record(
        case,
        SYSTEM,
        EventKind.WARNED,
        reason=f"Reminder sent: call {case.client.name} at {_local(callback.requested_for)}.",
        target=callback.accountable,
        at=now,
    )
    notify(
        people=[callback.accountable],
        case=case,
        now=now,
        subject=f"{case.reference}: call the client at {_local(callback.requested_for)}",
        body=f"{case.client.name} expects your call on {callback.phone} at "
        f"{_local(callback.requested_for)}. Mark it done on the case page afterwards.",
    )
    return line
