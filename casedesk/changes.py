"""The machinery every case action shares: lock, transition, deadline, version, timeline.

Only the action modules (casedesk.services, casedesk.handoffs, casedesk.callbacks,
casedesk.client_services and escalation's actions) use these; a view, task or command
calls a whole action, never a piece of one. Nothing here reads the wall clock: every
function takes the change's one `now`. Writes go through casedesk.batching, so a batch of
changes (the sweep's) makes them in one query per table.
"""

from datetime import datetime

from django.db.models import Case as SqlCase
from django.db.models import Value, When
from django_fsm import can_proceed

from accounts.models import StaffProfile
from casedesk import batching, deadlines, search
from casedesk.actors import Actor
from casedesk.deadlines import Deadline
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import CallBack, CallBackState, Case, CaseEvent, CaseState, EventKind, HandOff
from casedesk.notifications import notify, notify_client
from casedesk.plain_words import site_time

CLIENT_VISIBLE = {EventKind.RESOLVED, EventKind.DENIED, EventKind.ESCALATED, EventKind.REOPENED}


def lock_case(*, pk: int) -> Case:
    """The case's row, locked until commit: the first lock every writer takes. No join in
    the locking query: PostgreSQL re-checks a joined row it waited for and may then return
    nothing; related rows load afterwards, under the lock."""
    return Case.objects.select_for_update().get(pk=pk)


def lock(case: Case) -> Case:
    """The case's row, locked until commit; CaseConflict if it changed since `case` was read."""
    locked = lock_case(pk=case.pk)
    if locked.version != case.version:
        raise CaseConflict(
            f"{locked.reference} was changed by someone else while you were looking at it. "
            "Here is the case as it is now; check it and try again."
        )
    return locked


def require_transition(case: Case, actor: Actor, name: str) -> None:
    """The state machine's own answer: source state, then permission, then conditions."""
    method = getattr(case, name)
    label = name.replace("_", " ")
    if not can_proceed(method, check_conditions=False):
        raise InvalidTransition(
            f"A case that is {case.get_state_display().lower()} cannot be {_past(label)}."
        )
    transition = method._django_fsm.get_transition(case.state)
    if transition is None or not transition.has_perm(case, actor):
        raise NotPermitted(f"You may not {label} {case.reference}.")
    for check in transition.conditions:
        if not check(case):
            raise InvalidTransition(getattr(check, "message", f"{label} is not possible now."))


def apply(
    case: Case,
    actor: Actor,
    name: str,
    kind: EventKind,
    *,
    now: datetime,
    reason: str = "",
    target: StaffProfile | None = None,
    handoff: HandOff | None = None,
    client_visible: bool | None = None,
    deadline: Deadline | None = None,
    args: dict | None = None,
) -> CaseEvent:
    """Run transition `name` (checked first), store the deadline, write the event."""
    require_transition(case, actor, name)
    from_state, from_owner = case.state, case.owner_id
    args = dict(args or {})
    if deadline is not None:
        args["due_at"] = deadline.due_at
    getattr(case, name)(**args)
    if case.owner_id != from_owner:
        hand_over_callbacks(case, now=now)
    # Any transition ends a pause: whoever holds the case next runs on a fresh deadline.
    case.waiting_on_client_since, case.paused_remaining, case.paused_kind = None, None, ""
    if actor.is_staff and not (name == "escalate" and case.owner_id == from_owner):
        # Someone who works it acted: the breach is answered. Escalating into nothing at
        # the top answers nothing, so the breach stays shown.
        case.late_since = None
    if deadline is not None:
        schedule(case, deadline)
    touch(case, now)
    return record(
        case,
        actor,
        kind,
        at=now,
        from_state=from_state,
        reason=reason,
        target=target,
        handoff=handoff,
        client_visible=kind in CLIENT_VISIBLE if client_visible is None else client_visible,
    )


def hand_over_callbacks(case: Case, *, now: datetime) -> None:
    """A booked call-back belongs to whoever holds the case, so the client is called by the
    person their page names. Its time stays (moving never buys time). One already missed
    stays where it is: with whoever missed it, for the sweep to escalate, or with whom it
    was escalated to."""
    batching.call(_hand_over_callbacks, case, now=now)


def _hand_over_callbacks(cases: list[Case], *, now: datetime) -> None:
    """One UPDATE for the cases' call-backs, each given to its own case's owner."""
    owners = {case.pk: case.owner_id for case in cases}
    to_owner = SqlCase(*(When(case_id=pk, then=Value(owner)) for pk, owner in owners.items()))
    CallBack.objects.filter(
        case_id__in=owners, state=CallBackState.PENDING, escalation_level=0, due_at__gt=now
    ).exclude(accountable_id=to_owner).update(accountable_id=to_owner)


def count_as_response(case: Case, actor: Actor, now: datetime) -> None:
    """The owner answering the client (a message, a call) meets the response deadline;
    the next update is due from now."""
    if (
        actor.staff == case.owner
        and case.state in (CaseState.OPEN, CaseState.CROSS_DEPARTMENT)
        and not case.waiting_on_client_since
    ):
        case.first_response_at = case.first_response_at or now
        case.late_since = None
        schedule(case, deadlines.working_deadline(case, now=now))


def start_reply_clock(case: Case, now: datetime) -> None:
    """The client wrote: whoever holds an active case owes them a reply within the policy's
    response time, unless their deadline already falls sooner."""
    if not case.is_active or case.waiting_on_client_since:
        return
    reply = deadlines.working_deadline(case, now=now)
    if case.due_at is None or reply.due_at < case.due_at:
        schedule(case, reply)


def schedule(item, deadline: Deadline) -> None:
    """Store the holder's next deadline and when to warn them about it."""
    item.due_at, item.warn_at = deadline.due_at, deadline.warn_at
    if isinstance(item, Case):
        item.due_kind = deadline.kind


def touch(case: Case, now: datetime) -> None:
    """Every change to a case moves its version on, so stale pages and callers conflict."""
    case.version += 1
    case.updated_at = now
    batching.save(case)


def record(
    case: Case,
    actor: Actor,
    kind: EventKind,
    *,
    at: datetime,
    from_state: str | None = None,
    reason: str = "",
    target: StaffProfile | None = None,
    handoff: HandOff | None = None,
    client_visible: bool = False,
    email_client: bool = True,
) -> CaseEvent:
    """Write one timeline event; a change the client can see is also emailed to them
    (email_client=False: the caller sends the client its own email, or sends it later)."""
    event = CaseEvent(
        created_at=at,
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
    batching.create(event)
    if client_visible and kind in search.MESSAGE_KINDS:
        # a message is found by a search at once (in a batch: once its events are written)
        batching.call(search.refresh_search, case.pk)
    if client_visible and email_client:
        notify_client(case=case, event=event, actor=actor)
    return event


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


def tell_holders(
    case: Case, *, previous: StaffProfile | None, actor: Actor, now: datetime, what: str
) -> None:
    """The case changed holder: the new holder and the previous one are told at once
    (never the person who moved it: nobody is told of their own action)."""
    notify(
        people=[case.owner, previous],
        case=case,
        subject=f"{case.reference} is now with {case.owner.name}",
        body=f"{what}\n\n{case.reference} ({case.subject}) is now with {case.owner.name}, "
        f"{case.owner.title}; next deadline {site_time(case.due_at)}.",
        now=now,
        actor=actor,
    )


def tell_holder(case: Case, *, actor: Actor, now: datetime, subject: str, body: str) -> None:
    """Whoever holds the case hears of something they must act on."""
    notify(
        people=[case.owner],
        case=case,
        subject=f"{case.reference}: {subject}",
        body=body,
        now=now,
        actor=actor,
    )
