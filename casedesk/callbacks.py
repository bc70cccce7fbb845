"""Call-backs: the client asks to be called at a time that suits them.

A booked call-back is a commitment of whoever holds the case, with its own stored deadline
(the requested time plus a short grace). The sweep reminds the holder shortly before and,
if the time passes without the call, escalates it up the holder's chain like any other
deadline (escalation.services.items_escalate_overdue, told how by escalation.held).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from casedesk import deadlines, permissions
from casedesk.actors import Actor
from casedesk.changes import count_as_response, lock_case, record, touch
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import CallBack, CallBackState, Case, CaseState, EventKind
from casedesk.notifications import notify
from casedesk.plain_words import client_time, site_time

GRACE = timedelta(minutes=15)  # a call a few minutes late is still the call asked for
MIN_NOTICE = timedelta(minutes=15)
MAX_AHEAD = timedelta(days=60)
REMINDER = timedelta(minutes=15)


@transaction.atomic
def callback_request(
    *,
    case: Case,
    actor: Actor,
    phone: str,
    at: datetime,
    time_zone: str,
    note: str = "",
    now: datetime | None = None,
) -> CallBack:
    """Book a call at `at` for whoever holds the case; a new request replaces a booked one."""
    case = lock_case(pk=case.pk)
    if not (permissions.is_contact_of_client(case, actor) or permissions.may_write_on(case, actor)):
        raise NotPermitted("Only the client or whoever works the case can book a call-back.")
    if case.state == CaseState.RESOLVED:
        raise InvalidTransition("This case is resolved: reopen it first to ask for a call.")
    if not phone.strip():
        raise InvalidTransition("Give the number we should call.")
    now = now or timezone.now()
    if at < now + MIN_NOTICE:
        raise InvalidTransition("Pick a time at least 15 minutes from now.")
    if at > now + MAX_AHEAD:
        raise InvalidTransition("Pick a time within the next 60 days.")
    hours = deadlines.hours_for(case.department_id)
    if not hours.is_working_time(at):
        raise InvalidTransition(
            f"We can call during opening hours, {hours.describe()}, except public holidays. "
            "Please pick a time then."
        )
    replaced = (
        CallBack.objects.select_for_update().filter(case=case, state=CallBackState.PENDING).first()
    )
    if replaced is not None:
        replaced.replace(at=now)
        replaced.save()
    callback = CallBack.objects.create(
        case=case,
        requested_by=actor.contact,
        phone=phone.strip(),
        requested_for=at,
        time_zone=time_zone,
        note=note.strip(),
        accountable=case.owner,
        due_at=at + GRACE,
        warn_at=at - REMINDER if at - REMINDER > now else None,
        created_at=now,
    )
    when = client_time(at, time_zone)
    reason = f"{case.owner.name} will call you on {when}."
    if replaced is not None:
        earlier = client_time(replaced.requested_for, replaced.time_zone)
        reason += f" This replaces the call booked for {earlier}."
    if callback.note:
        reason += f"\nYour note: {callback.note}"
    touch(case, now)
    record(
        case,
        actor,
        EventKind.CALLBACK_REQUESTED,
        reason=reason,
        target=case.owner,
        client_visible=True,
        at=now,
    )
    notify(
        people=[case.owner],
        case=case,
        subject=f"{case.reference}: call the client {site_time(at)}",
        body=f"{case.client.name} asked to be called on {callback.phone} at {site_time(at)} "
        f"({when} for them). If the call is not marked done by {site_time(callback.due_at)}, "
        "it goes to your supervisor."
        + (f"\n\nTheir note: {callback.note}" if callback.note else ""),
        now=now,
        actor=actor,
    )
    return callback


@transaction.atomic
def callback_complete(
    *, callback: CallBack, actor: Actor, outcome: str, now: datetime | None = None
) -> CallBack:
    """Staff record the call made; the client reads what was agreed."""
    case, callback = _lock(callback)
    if not permissions.may_record_call(case, callback, actor):
        raise NotPermitted(f"You may not record calls on {case.reference}.")
    if not outcome.strip():
        raise InvalidTransition("Say how the call went: the client reads it.")
    now = now or timezone.now()
    callback.complete(by=actor.staff, outcome=outcome, at=now)
    callback.save()
    count_as_response(case, actor, now)
    touch(case, now)
    record(
        case,
        actor,
        EventKind.CALLBACK_DONE,
        reason=outcome,
        target=actor.staff,
        client_visible=True,
        at=now,
    )
    return callback


@transaction.atomic
def callback_cancel(
    *, callback: CallBack, actor: Actor, reason: str, now: datetime | None = None
) -> CallBack:
    """The call is not needed any more: the client says so, or staff do, saying why (the
    client reads it). Nothing else ends a booked call without it being made."""
    case, callback = _lock(callback)
    by_client = permissions.is_contact_of_client(case, actor)
    if not (by_client or permissions.may_record_call(case, callback, actor)):
        raise NotPermitted(f"You may not cancel calls on {case.reference}.")
    if not by_client and not reason.strip():
        raise InvalidTransition("Say why the call is not needed: the client reads it.")
    now = now or timezone.now()
    callback.cancel(by=actor.staff, reason=reason, at=now)
    callback.save()
    touch(case, now)
    when = client_time(callback.requested_for, callback.time_zone)
    text = f"The call booked for {when} is cancelled." + (
        f" {reason.strip()}" if reason.strip() else ""
    )
    record(case, actor, EventKind.CALLBACK_CANCELLED, reason=text, client_visible=True, at=now)
    notify(
        people=[callback.accountable],
        case=case,
        subject=f"{case.reference}: call-back cancelled",
        body=f"{actor} cancelled the call booked for {site_time(callback.requested_for)}. {text}",
        now=now,
        actor=actor,
    )
    return callback


def _lock(callback: CallBack) -> tuple[Case, CallBack]:
    """The case, then the call-back: the order every writer (and the sweep) locks them in.
    A call-back no longer booked is a conflict: someone closed it first."""
    case = lock_case(pk=callback.case_id)
    callback = (
        CallBack.objects.select_for_update(of=("self",))
        .select_related("accountable__user")
        .get(pk=callback.pk)
    )
    if not callback.is_pending:
        raise CaseConflict(f"This call-back was already {callback.get_state_display().lower()}.")
    return case, callback
