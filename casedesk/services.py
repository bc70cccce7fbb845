"""Every change to a case goes through one function here.

Each one runs in a transaction, locks the case row, refuses a stale caller (CaseConflict:
someone acted first), checks the actor's permission through the state machine, runs the
transition, and writes the timeline event, all or nothing. Nothing else changes `state`.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.timesince import timesince
from django_fsm import can_proceed

from accounts.chain import chain_of, lowest_common_manager
from accounts.models import Department, StaffProfile
from casedesk import deadlines, permissions
from casedesk.actors import SYSTEM, Actor
from casedesk.deadlines import Deadline
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import (
    CallBack,
    CallBackState,
    Case,
    CaseEvent,
    CaseState,
    Client,
    EventKind,
    HandOff,
    HandOffState,
    Risk,
)
from casedesk.models.cases import new_status_nonce
from casedesk.notifications import notify_client


@transaction.atomic
def case_open(
    *,
    actor: Actor,
    client: Client,
    subject: str,
    description: str = "",
    priority: str = "normal",
    owner: StaffProfile | None = None,
) -> Case:
    """Open a case for a client of the actor's department, held by `owner` (default: actor)."""
    if not actor.is_staff or actor.staff.department_id != client.department_id:
        raise NotPermitted("You can open cases only for clients of your own department.")
    owner = owner or actor.staff
    if owner.department_id != client.department_id:
        raise InvalidTransition(f"{owner.name} does not work in {client.department}.")
    now = timezone.now()
    case = Case(
        client=client,
        department_id=client.department_id,
        subject=subject,
        description=description,
        priority=priority,
        owner=owner,
        created_at=now,
        updated_at=now,
    )
    case.resolution_due_at = deadlines.resolution_due(case, now=now)
    schedule(case, deadlines.working_deadline(case, now=now))
    case.save()
    case.reference = Case.format_reference(case.pk)
    case.save(update_fields=["reference"])
    record(case, actor, EventKind.OPENED, from_state="", target=owner, client_visible=True)
    return case


@transaction.atomic
def case_resolve(*, case: Case, actor: Actor, summary: str = "") -> Case:
    case = _lock(case)
    now = timezone.now()
    return _apply(case, actor, "resolve", EventKind.RESOLVED, reason=summary, args={"at": now})


@transaction.atomic
def case_deny(*, case: Case, actor: Actor, rationale: str) -> Case:
    """Decline the request; the rationale is shown to the client, who can appeal it."""
    case = _lock(case)
    case.denial_rationale = rationale.strip()
    now = timezone.now()
    return _apply(case, actor, "deny", EventKind.DENIED, reason=rationale, args={"at": now})


@transaction.atomic
def case_escalate(*, case: Case, actor: Actor, reason: str, now: datetime | None = None) -> Case:
    """Move the case to the owner's manager; at the top, keep it there and flag it.

    `now` lets the sweep act as of the instant it checked (run_escalations --at).
    """
    case = _lock(case)
    now = now or timezone.now()
    case.escalation_reason = reason.strip()
    chain = chain_of(case.owner)
    to = chain[0] if chain else None
    deadline = deadlines.escalation_deadline(case, now=now)
    if to is None:
        reason = f"{reason.strip()} (already with the top of the chain: {case.owner.name})"
    return _apply(
        case,
        actor,
        "escalate",
        EventKind.ESCALATED,
        reason=reason,
        target=to or case.owner,
        deadline=deadline,
        args={"to": to},
        now=now,
        # A passed deadline at the top of the chain changes nothing the client sees: a
        # reminder to the top, not news for them (their own appeal there still shows).
        client_visible=False if to is None and actor.is_system else None,
    )


@transaction.atomic
def case_request_handoff(
    *,
    case: Case,
    actor: Actor,
    to_department: Department,
    accountable: StaffProfile,
    request: str,
    shared_summary: str,
) -> HandOff:
    """Ask another department for something, with an accountable person and a deadline."""
    case = _lock(case)
    if to_department.pk == case.department_id:
        raise InvalidTransition("A hand-off goes to another department than the case's own.")
    if accountable.department_id != to_department.pk:
        raise InvalidTransition(f"{accountable.name} does not work in {to_department}.")
    if not request.strip() or not shared_summary.strip():
        raise InvalidTransition("A hand-off needs what is asked and a summary the other side sees.")
    now = timezone.now()
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
    if case.state == CaseState.CROSS_DEPARTMENT:
        # Another request while one is open: no transition, the same people may ask.
        if not permissions.is_owner_or_above(case, actor):
            raise NotPermitted(f"You may not request a hand-off on {case.reference}.")
        touch(case, now)
        record(
            case,
            actor,
            EventKind.HANDOFF_REQUESTED,
            reason=request,
            target=accountable,
            handoff=handoff,
        )
    else:
        _apply(
            case,
            actor,
            "request_handoff",
            EventKind.HANDOFF_REQUESTED,
            reason=request,
            target=accountable,
            handoff=handoff,
        )
    return handoff


@transaction.atomic
def handoff_assign(*, handoff: HandOff, actor: Actor, to: StaffProfile) -> HandOff:
    """Take a hand-off (to = yourself) or, as a supervisor, give it to a colleague.

    Its deadline stays: it belongs to the receiving department, so moving the hand-off
    around inside it never buys time.
    """
    case = Case.objects.select_for_update().get(pk=handoff.case_id)
    handoff = (
        HandOff.objects.select_for_update(of=("self",))
        .select_related("to_department")
        .get(pk=handoff.pk)
    )
    if handoff.state != HandOffState.OPEN:
        raise CaseConflict(f"This hand-off was already {handoff.get_state_display().lower()}.")
    _require_permission_on_handoff(handoff, actor)
    if to.department_id != handoff.to_department_id:
        raise InvalidTransition(f"{to.name} does not work in {handoff.to_department}.")
    if to.pk != actor.staff.pk and not actor.staff.is_supervisor:
        raise NotPermitted("Only a supervisor can give a hand-off to someone else.")
    if to.pk == handoff.accountable_id:
        raise InvalidTransition(f"{to.name} already holds this hand-off.")
    handoff.accountable = to
    handoff.save(update_fields=["accountable"])
    now = timezone.now()
    touch(case, now)
    record(case, actor, EventKind.HANDOFF_ASSIGNED, target=to, handoff=handoff, at=now)
    return handoff


@transaction.atomic
def handoff_complete(*, handoff: HandOff, actor: Actor, answer: str) -> HandOff:
    return _close_handoff(handoff, actor, HandOffState.COMPLETED, answer)


@transaction.atomic
def handoff_decline(*, handoff: HandOff, actor: Actor, reason: str) -> HandOff:
    return _close_handoff(handoff, actor, HandOffState.DECLINED, reason)


@transaction.atomic
def case_return_with_guidance(*, case: Case, actor: Actor, guidance: str) -> Case:
    """Send an escalated case back to whoever worked it, with what to do next."""
    case = _lock(case)
    if not guidance.strip():
        raise InvalidTransition("Returning a case needs guidance for whoever works it next.")
    return _apply(
        case,
        actor,
        "return_with_guidance",
        EventKind.RETURNED,
        reason=guidance,
        target=case.returns_to or case.owner,
        deadline=deadlines.working_deadline(case, now=timezone.now()),
    )


@transaction.atomic
def case_reopen(*, case: Case, actor: Actor, reason: str = "") -> Case:
    case = _lock(case)
    now = timezone.now()
    until = deadlines.client_reopen_until(case)
    if actor.is_client and until is not None and now > until:
        raise InvalidTransition(
            f"Cases can be reopened here within {settings.CASEDESK_CLIENT_REOPEN_DAYS} days; "
            "please open a new request."
        )
    case.resolution_due_at = deadlines.resolution_due(case, now=now)
    return _apply(
        case,
        actor,
        "reopen",
        EventKind.REOPENED,
        reason=reason,
        client_visible=True,
        deadline=deadlines.working_deadline(case, now=now),
    )


@transaction.atomic
def case_add_note(*, case: Case, actor: Actor, text: str, client_visible: bool = False) -> Case:
    """An internal note, or (client_visible) a message the client reads on the status page."""
    case = _lock(case)
    if not text.strip():
        raise InvalidTransition("Write something first: the note is empty.")
    if not permissions.may_write_on(case, actor):
        raise NotPermitted(f"You may not write on {case.reference}.")
    now = timezone.now()
    if client_visible:
        count_as_response(case, actor, now)
    touch(case, now)
    kind = EventKind.MESSAGE if client_visible else EventKind.NOTE
    record(case, actor, kind, reason=text, client_visible=client_visible)
    return case


@transaction.atomic
def case_reassign(*, case: Case, actor: Actor, to: StaffProfile, reason: str = "") -> Case:
    """A supervisor (or above) gives an active case to someone else in its department."""
    case = _lock(case)
    if not permissions.may_reassign(case, actor):
        raise NotPermitted(f"Only a supervisor over {case.owner.name} can reassign this case.")
    if not case.is_active:
        raise InvalidTransition("Only a case that is being worked can be reassigned.")
    if to.department_id != case.department_id:
        raise InvalidTransition(f"{to.name} does not work in {case.department}.")
    if to.pk == case.owner_id:
        raise InvalidTransition(f"{to.name} already holds this case.")
    case.owner = to
    hand_over_callbacks(case, now=timezone.now())
    schedule(case, deadlines.working_deadline(case, now=timezone.now()))
    touch(case, timezone.now())
    record(case, actor, EventKind.REASSIGNED, reason=reason, target=to)
    return case


@transaction.atomic
def case_flag_risk(*, case: Case, actor: Actor, risk: str, reason: str) -> Case:
    """A legal threat, a regulator, the press: straight to the lowest manager over every
    department involved (the case's and those it was handed to), audited in the timeline."""
    case = _lock(case)
    if not permissions.may_flag_risk(case, actor):
        raise NotPermitted(f"You may not flag {case.reference}.")
    if not reason.strip():
        raise InvalidTransition("Say what the risk is.")
    if risk not in Risk.values:
        raise InvalidTransition("Choose a kind of risk.")
    now = timezone.now()
    case.risk, case.risk_reason = risk, reason.strip()
    departments = {case.department, *(h.to_department for h in case.handoffs.all())}
    manager = lowest_common_manager(*departments)
    label = Risk(risk).label.lower()
    record(
        case,
        actor,
        EventKind.RISK_FLAGGED,
        reason=f"{Risk(risk).label}: {reason.strip()}",
        target=manager,
        at=now,
    )
    can_move = (
        manager is not None
        and manager.pk != case.owner_id
        and case.state
        in {CaseState.OPEN, CaseState.ESCALATED, CaseState.CROSS_DEPARTMENT, CaseState.DENIED}
    )
    if not can_move:
        touch(case, now)
        return case
    case.escalation_reason = f"Risk flagged ({label})"
    names = ", ".join(sorted(d.name for d in departments))
    return _apply(
        case,
        SYSTEM,
        "escalate",
        EventKind.ESCALATED,
        reason=f"Automatic: a {label} was flagged, so the case goes straight to "
        f"{manager.name}, the lowest manager over {names}.",
        target=manager,
        deadline=deadlines.escalation_deadline(case, now=now),
        args={"to": manager},
        now=now,
        client_visible=False,  # the client sees who has the case, not why
    )


@transaction.atomic
def case_reissue_status_link(*, case: Case, actor: Actor) -> Case:
    """Revoke the client's status link and issue a new one (e.g. it was forwarded)."""
    case = _lock(case)
    if not permissions.may_write_on(case, actor):
        raise NotPermitted(f"You may not reissue {case.reference}'s status link.")
    now = timezone.now()
    case.status_nonce = new_status_nonce()
    touch(case, now)
    record(
        case, actor, EventKind.STATUS_LINK_REISSUED, reason="The old link no longer works.", at=now
    )
    return case


@transaction.atomic
def case_wait_for_client(*, case: Case, actor: Actor, question: str) -> Case:
    """Ask the client something and pause the clock until they answer."""
    case = _lock(case)
    if not permissions.is_owner_or_above(case, actor):
        raise NotPermitted(f"You may not pause {case.reference}.")
    if case.state != CaseState.OPEN or case.waiting_on_client_since:
        raise InvalidTransition("Only an open case that is not already waiting can be paused.")
    if not question.strip():
        raise InvalidTransition("Tell the client what you need from them.")
    now = timezone.now()
    case.waiting_on_client_since = now
    case.paused_remaining = deadlines.remaining(case, now=now)
    case.paused_kind = case.due_kind
    schedule(case, deadlines.client_reply_deadline(case, now=now))
    touch(case, now)
    record(case, actor, EventKind.WAITING_ON_CLIENT, reason=question, client_visible=True, at=now)
    return case


@transaction.atomic
def case_client_message(*, case: Case, actor: Actor, text: str) -> Case:
    """A client contact writes on their case; if it was waiting on them, its clock resumes."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not permissions.is_contact_of_client(case, actor):
        raise NotPermitted("Only the client's own contacts can write here.")
    if not text.strip():
        raise InvalidTransition("Write something first: the message is empty.")
    now = timezone.now()
    message = record(
        case, actor, EventKind.MESSAGE, reason=text, client_visible=True, at=now, email_client=False
    )
    _resume_clock(case, actor, now, why="The client answered.")
    touch(case, now)
    notify_client(case=case, event=message, actor=actor)  # told what happens next, resumed
    return case


@transaction.atomic
def case_resume_clock(*, case: Case, actor: Actor, note: str = "") -> Case:
    """Staff record that the client answered another way (a call, say)."""
    case = _lock(case)
    if not permissions.may_write_on(case, actor):
        raise NotPermitted(f"You may not resume {case.reference}.")
    if not case.waiting_on_client_since:
        raise InvalidTransition("This case is not waiting on the client.")
    now = timezone.now()
    _resume_clock(case, actor, now, why=note or "The client answered.")
    touch(case, now)
    return case


def _resume_clock(case: Case, actor: Actor, now, *, why: str) -> None:
    if not case.waiting_on_client_since:
        return
    paused_for = now - case.waiting_on_client_since
    schedule(case, deadlines.resumed(case, now=now))
    case.waiting_on_client_since, case.paused_remaining, case.paused_kind = None, None, ""
    record(
        case,
        actor,
        EventKind.CLOCK_RESUMED,
        reason=f"{why} The clock was paused for {timesince(now - paused_for, now)}.",
        at=now,
    )


# --- The machinery every action shares ------------------------------------------------

_CLIENT_VISIBLE = {EventKind.RESOLVED, EventKind.DENIED, EventKind.ESCALATED, EventKind.REOPENED}


def _lock(case: Case) -> Case:
    """The case's row, locked until commit; CaseConflict if it changed since `case` was read."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.version != case.version:
        raise CaseConflict(
            f"{locked.reference} was changed by someone else while you were looking at it. "
            "Here is the case as it is now; check it and try again."
        )
    return locked


def _require_permission(case: Case, actor: Actor, name: str) -> None:
    method = getattr(case, name)
    label = name.replace("_", " ")
    if not can_proceed(method, check_conditions=False):
        raise InvalidTransition(
            f"A case that is {case.get_state_display().lower()} cannot be {_past(label)}."
        )
    if not _has_permission(method, actor):
        raise NotPermitted(f"You may not {label} {case.reference}.")
    transition = method._django_fsm.get_transition(case.state)
    for check in transition.conditions:
        if not check(case):
            raise InvalidTransition(getattr(check, "message", f"{label} is not possible now."))


def _has_permission(method, actor: Actor) -> bool:
    """django-fsm's has_transition_perm, without the data conditions (checked after)."""
    transition = method._django_fsm.get_transition(method.__self__.state)
    return transition is not None and transition.has_perm(method.__self__, actor)


def _apply(
    case: Case,
    actor: Actor,
    name: str,
    kind: EventKind,
    *,
    reason: str = "",
    target: StaffProfile | None = None,
    handoff: HandOff | None = None,
    client_visible: bool | None = None,
    deadline: Deadline | None = None,
    args: dict | None = None,
    now: datetime | None = None,
) -> Case:
    _require_permission(case, actor, name)
    now = now or timezone.now()
    from_state, from_owner = case.state, case.owner_id
    args = dict(args or {})
    if deadline is not None:
        args["due_at"] = deadline.due_at
    getattr(case, name)(**args)
    if case.owner_id != from_owner:
        hand_over_callbacks(case, now=now)
    # Any transition ends a pause: whoever holds the case next runs on a fresh deadline.
    case.waiting_on_client_since, case.paused_remaining, case.paused_kind = None, None, ""
    if deadline is not None:
        schedule(case, deadline)
    touch(case, now)
    record(
        case,
        actor,
        kind,
        from_state=from_state,
        reason=reason,
        target=target,
        handoff=handoff,
        client_visible=kind in _CLIENT_VISIBLE if client_visible is None else client_visible,
        at=now,
    )
    return case


def hand_over_callbacks(case: Case, *, now: datetime) -> None:
    """A booked call-back belongs to whoever holds the case, so the client is called by the
    person their page names. Its time stays (moving never buys time). One already missed
    stays where it is: with whoever missed it, for the sweep to escalate, or with whom it
    was escalated to."""
    CallBack.objects.filter(
        case=case, state=CallBackState.PENDING, escalation_level=0, due_at__gt=now
    ).exclude(accountable=case.owner).update(accountable=case.owner)


def count_as_response(case: Case, actor: Actor, now: datetime) -> None:
    """The owner answering the client (a message, a call) meets the response deadline;
    the next update is due from now."""
    if (
        actor.staff == case.owner
        and case.state in (CaseState.OPEN, CaseState.CROSS_DEPARTMENT)
        and not case.waiting_on_client_since
    ):
        case.first_response_at = case.first_response_at or now
        schedule(case, deadlines.working_deadline(case, now=now))


def schedule(item, deadline: Deadline) -> None:
    """Store the holder's next deadline and when to warn them about it."""
    item.due_at, item.warn_at = deadline.due_at, deadline.warn_at
    if isinstance(item, Case):
        item.due_kind = deadline.kind


def touch(case: Case, now) -> None:
    """Every change to a case moves its version on, so stale pages and callers conflict."""
    case.version += 1
    case.updated_at = now
    case.save()


def record(
    case: Case,
    actor: Actor,
    kind: EventKind,
    *,
    from_state: str | None = None,
    reason: str = "",
    target: StaffProfile | None = None,
    handoff: HandOff | None = None,
    client_visible: bool = False,
    at: datetime | None = None,
    email_client: bool = True,
) -> CaseEvent:
    """Write one timeline event; a change the client can see is also emailed to them
    (email_client=False: the caller sends the client its own email, or sends it later)."""
    event = CaseEvent.objects.create(
        created_at=at or timezone.now(),
        case=case,
        kind=kind,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_contact=actor.contact,
        from_state=case.state if from_state is None else from_state,
        to_state=case.state,
        target=target,
        handoff=handoff,
        reason=reason.strip(),
        client_visible=client_visible,
    )
    if client_visible and email_client:
        notify_client(case=case, event=event, actor=actor)
    return event


def _close_handoff(handoff: HandOff, actor: Actor, outcome: HandOffState, text: str) -> HandOff:
    case = Case.objects.select_for_update().get(pk=handoff.case_id)
    handoff = HandOff.objects.select_for_update().get(pk=handoff.pk)
    if handoff.state != HandOffState.OPEN:
        raise CaseConflict(f"This hand-off was already {handoff.get_state_display().lower()}.")
    if not text.strip():
        raise InvalidTransition("Closing a hand-off needs an answer or a reason.")
    _require_permission_on_handoff(handoff, actor)
    now = timezone.now()
    handoff.state, handoff.answer, handoff.closed_at = outcome, text.strip(), now
    handoff.due_at = handoff.warn_at = None
    handoff.save(update_fields=["state", "answer", "closed_at", "due_at", "warn_at"])
    completed = outcome == HandOffState.COMPLETED
    kind = EventKind.HANDOFF_COMPLETED if completed else EventKind.HANDOFF_DECLINED
    if (
        case.state == CaseState.CROSS_DEPARTMENT
        and not case.handoffs.filter(state=HandOffState.OPEN).exists()
    ):
        _apply(
            case,
            actor,
            "complete_handoff",
            kind,
            reason=text,
            target=case.owner,
            handoff=handoff,
            deadline=deadlines.working_deadline(case, now=now),
        )
    else:
        touch(case, now)
        record(case, actor, kind, reason=text, handoff=handoff)
    return handoff


def _require_permission_on_handoff(handoff: HandOff, actor: Actor) -> None:
    if not permissions.acts_for_handoff(handoff, actor):
        raise NotPermitted("Only the receiving department can answer this hand-off.")


def _past(label: str) -> str:
    words = {
        "resolve": "resolved",
        "deny": "denied",
        "escalate": "escalated",
        "request handoff": "handed off",
        "complete handoff": "completed",
        "return with guidance": "returned",
        "reopen": "reopened",
    }
    return words.get(label, label)
