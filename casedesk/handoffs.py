"""Hand-offs: a case's department asks another for something, with an accountable person
on the other side and a deadline of its own.

Each action owns its whole change (see casedesk.services). Who is told: the receiving
accountable person and the requester of every step, and the case's holder of the answer.
The sweep's climb of an unanswered hand-off lives in escalation.services.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Department, StaffProfile
from casedesk import deadlines, permissions, settling
from casedesk.actors import Actor
from casedesk.attachments import attach, cleaned_up_on_failure
from casedesk.changes import apply, lock, lock_case, record, schedule, touch
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import Case, CaseState, EventKind, HandOff, HandOffState
from casedesk.notifications import notify
from casedesk.plain_words import site_time


@transaction.atomic
def handoff_request(
    *,
    case: Case,
    actor: Actor,
    to_department: Department,
    accountable: StaffProfile,
    request: str,
    shared_summary: str,
    shared_attachments: Sequence = (),
    now: datetime | None = None,
) -> HandOff:
    """Ask another department for something, with an accountable person and a deadline;
    the summary and the files chosen (`shared_attachments`, of this case) are what the
    other side may see."""
    case = lock(case)
    now = now or timezone.now()
    if not permissions.may_request_handoff(case, actor):
        if not case.is_active:
            raise InvalidTransition(
                f"A case that is {case.get_state_display().lower()} cannot be handed off."
            )
        raise NotPermitted(f"You may not request a hand-off on {case.reference}.")
    if to_department.pk == case.department_id:
        raise InvalidTransition("A hand-off goes to another department than the case's own.")
    if accountable.department_id != to_department.pk:
        raise InvalidTransition(f"{accountable.name} does not work in {to_department}.")
    if not request.strip() or not shared_summary.strip():
        raise InvalidTransition("A hand-off needs what is asked and a summary the other side sees.")
    handoff = HandOff(
        case=case,
        from_department_id=case.department_id,
        to_department=to_department,
        requested_by=actor.staff if actor.is_staff else case.owner,
        accountable=accountable,
        request=request.strip(),
        shared_summary=shared_summary.strip(),
        created_at=now,
    )
    handoff.case = case  # the deadline reads the case's priority
    schedule(handoff, deadlines.handoff_deadline(handoff, now=now))
    handoff.save()
    shared = list(shared_attachments)
    if any(a.case_id != case.pk or a.is_removed for a in shared):
        raise InvalidTransition("Only this case's files, not removed from view, can be shared.")
    handoff.shared_attachments.set(shared)
    event = {"reason": request, "target": accountable, "handoff": handoff}
    if case.state == CaseState.CROSS_DEPARTMENT:
        # Another request while one is open: no transition, the same people may ask.
        touch(case, now)
        record(case, actor, EventKind.HANDOFF_REQUESTED, at=now, **event)
    else:
        apply(case, actor, "request_handoff", EventKind.HANDOFF_REQUESTED, now=now, **event)
    _tell(
        handoff,
        [accountable, handoff.requested_by, case.owner],
        actor=actor,
        now=now,
        subject=f"{case.department} asks {to_department} for help",
        body=f"{handoff.requested_by.name} asks: {handoff.request}\n\n"
        f"What you may see of the case: {handoff.shared_summary}\n\n"
        f"{accountable.name} is accountable; the answer is due {site_time(handoff.due_at)}.",
    )
    return handoff


@transaction.atomic
def handoff_assign(
    *, handoff: HandOff, actor: Actor, to: StaffProfile, now: datetime | None = None
) -> HandOff:
    """Take a hand-off (to = yourself) or, as a supervisor, give it to a colleague.

    Its deadline stays: it belongs to the receiving department, so moving the hand-off
    around inside it never buys time.
    """
    case, handoff = _lock(handoff)
    now = now or timezone.now()
    _require_receiving_side(handoff, actor)
    if to.department_id != handoff.to_department_id:
        raise InvalidTransition(f"{to.name} does not work in {handoff.to_department}.")
    if to.pk != actor.staff.pk and not permissions.may_give_handoff(handoff, actor):
        raise NotPermitted("Only a supervisor can give a hand-off to someone else.")
    if to.pk == handoff.accountable_id:
        raise InvalidTransition(f"{to.name} already holds this hand-off.")
    previous = handoff.accountable
    handoff.assign(to=to)
    handoff.save()
    touch(case, now)
    record(case, actor, EventKind.HANDOFF_ASSIGNED, at=now, target=to, handoff=handoff)
    _tell(
        handoff,
        [to, previous, handoff.requested_by],
        actor=actor,
        now=now,
        subject=f"hand-off to {handoff.to_department} is now with {to.name}",
        body=f"{actor} gave the hand-off ({handoff.request}) to {to.name}; "
        f"the answer is still due {site_time(handoff.due_at)}.",
    )
    return handoff


@cleaned_up_on_failure
@transaction.atomic
def handoff_complete(
    *,
    handoff: HandOff,
    actor: Actor,
    answer: str,
    files: Sequence = (),
    now: datetime | None = None,
) -> HandOff:
    """The receiving side answers, with files the requesting side can download."""
    return _close(handoff, actor, HandOffState.COMPLETED, answer, now or timezone.now(), files)


@cleaned_up_on_failure
@transaction.atomic
def handoff_decline(
    *,
    handoff: HandOff,
    actor: Actor,
    reason: str,
    files: Sequence = (),
    now: datetime | None = None,
) -> HandOff:
    return _close(handoff, actor, HandOffState.DECLINED, reason, now or timezone.now(), files)


def _close(
    handoff: HandOff, actor: Actor, outcome: HandOffState, text: str, now, files: Sequence = ()
) -> HandOff:
    case, handoff = _lock(handoff)
    _require_receiving_side(handoff, actor)
    if not text.strip():
        raise InvalidTransition("Closing a hand-off needs an answer or a reason.")
    completed = outcome == HandOffState.COMPLETED
    if completed:
        handoff.complete(answer=text, at=now)
    else:
        handoff.decline(reason=text, at=now)
    handoff.save()
    kind = EventKind.HANDOFF_COMPLETED if completed else EventKind.HANDOFF_DECLINED
    if (
        case.state == CaseState.CROSS_DEPARTMENT
        and not case.handoffs.filter(state=HandOffState.OPEN).exists()
    ):
        event = apply(
            case,
            actor,
            "complete_handoff",
            kind,
            now=now,
            reason=text,
            target=case.owner,
            handoff=handoff,
            deadline=deadlines.working_deadline(case, now=now),
        )
    else:
        touch(case, now)
        event = record(case, actor, kind, at=now, reason=text, handoff=handoff)
    attach(case=case, event=event, files=files, actor=actor, now=now)
    verb = "answered" if completed else "declined"
    _tell(
        handoff,
        [handoff.requested_by, case.owner, handoff.accountable],
        actor=actor,
        now=now,
        subject=f"{handoff.to_department} {verb} the hand-off",
        body=f"{actor} {verb} the hand-off ({handoff.request}):\n\n{text.strip()}",
    )
    return handoff


@settling.when_a_case_closes
def _withdraw_open_handoffs(case: Case, *, actor: Actor, now: datetime, why: str) -> None:
    """A closed case needs nothing more from another department: its open hand-offs are
    withdrawn, recorded, and their holders told, so nothing is left overdue forever."""
    for handoff in case.handoffs.select_for_update(of=("self",)).filter(state=HandOffState.OPEN):
        handoff.withdraw(why=why, at=now)
        handoff.save()
        record(
            case,
            actor,
            EventKind.HANDOFF_WITHDRAWN,
            at=now,
            reason=f"The hand-off to {handoff.to_department} is withdrawn: {why}.",
            target=handoff.accountable,
            handoff=handoff,
        )
        _tell(
            handoff,
            [handoff.accountable, handoff.requested_by],
            actor=actor,
            now=now,
            subject=f"hand-off to {handoff.to_department} withdrawn",
            body=f"Nothing more is needed on this hand-off ({handoff.request}): {why}.",
        )


def _tell(handoff: HandOff, people, *, actor: Actor, now: datetime, subject: str, body: str):
    notify(
        people=people,
        case=handoff.case,
        subject=f"{handoff.case.reference}: {subject}",
        body=body,
        now=now,
        actor=actor,
    )


def _lock(handoff: HandOff) -> tuple[Case, HandOff]:
    """The case, then the hand-off: the order every writer (and the sweep) locks them in.
    A hand-off no longer open is a conflict: someone answered it first."""
    case = lock_case(pk=handoff.case_id)
    handoff = (
        HandOff.objects.select_for_update(of=("self",))
        .select_related("to_department", "accountable", "requested_by")
        .get(pk=handoff.pk)
    )
    handoff.case = case
    if handoff.state != HandOffState.OPEN:
        raise CaseConflict(f"This hand-off was already {handoff.get_state_display().lower()}.")
    return case, handoff


def _require_receiving_side(handoff: HandOff, actor: Actor) -> None:
    if not permissions.acts_for_handoff(handoff, actor):
        raise NotPermitted("Only the receiving department can answer this hand-off.")
