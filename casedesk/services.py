"""The actions on a case: each one owns its whole change.

Every function here runs in one transaction and takes the actor and the change's one
`now` (read where the change enters, when the caller does not pass it). It locks the
case row, refuses a stale caller (CaseConflict: someone acted first), asks the same
permission rule the case page asks to offer the action, makes the transition, writes the
timeline event and declares who is told, all or nothing. Nothing else changes `state`.
Hand-off actions live in casedesk.handoffs, call-backs in casedesk.callbacks.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.timesince import timesince

from accounts.chain import chain_of, lowest_common_manager, people_with_chains
from accounts.models import StaffProfile
from casedesk import batching, deadlines, permissions, routing, search, settling
from casedesk.actors import SYSTEM, Actor
from casedesk.attachments import attach, cleaned_up_on_failure
from casedesk.changes import (
    apply,
    count_as_response,
    hand_over_callbacks,
    lock,
    lock_case,
    record,
    schedule,
    start_reply_clock,
    tell_holder,
    tell_holders,
    touch,
)
from casedesk.errors import InvalidTransition, NotPermitted, TooManyRequests
from casedesk.models import Case, CaseEvent, CaseState, Client, ClientContact, EventKind, Risk
from casedesk.models.cases import new_status_nonce
from casedesk.notifications import notify_client
from casedesk.plain_words import site_time


@transaction.atomic
def case_open(
    *,
    actor: Actor,
    client: Client,
    subject: str,
    description: str = "",
    priority: str = "normal",
    owner: StaffProfile | None = None,
    now: datetime | None = None,
) -> Case:
    """Open a case for a client of the actor's department, held by `owner` (default: actor)."""
    if not permissions.may_open_case_for(client, actor):
        raise NotPermitted("You can open cases only for clients of your own department.")
    owner = owner or actor.staff
    if owner.department_id != client.department_id:
        raise InvalidTransition(f"{owner.name} does not work in {client.department}.")
    now = now or timezone.now()
    case, _ = _new_case(client, subject, description, priority, owner, actor=actor, now=now)
    tell_holders(case, previous=None, actor=actor, now=now, what=f"{actor} opened it for you.")
    return case


# How a client's own request reached us, as the holder is told it.
REQUEST_ROUTES = {"web": "from their page", "email": "by email"}
# Each new request is a case that pages an agent at once: a contact's own few an hour are
# plenty, and a script holding their session cannot flood the department's intake.
REQUESTS_PER_CONTACT_PER_HOUR = 10
SUBJECT_LIMIT = Case._meta.get_field("subject").max_length


@cleaned_up_on_failure
@transaction.atomic
def case_request_open(
    *,
    contact: ClientContact,
    subject: str,
    description: str = "",
    files: Sequence = (),
    via: str = "web",
    now: datetime | None = None,
    taken_in_by: Actor | None = None,
) -> Case:
    """A client contact sends in a new request (from their page, or an email to a
    department's mailbox), with files if any: a case for their client in the client's
    department, held by the department's intake (casedesk.routing: never nobody), against
    its first-response deadline; the holder is told at once (unless they are
    `taken_in_by`, the staff member who took the email in for the client: inbound)."""
    if via not in REQUEST_ROUTES:
        raise ValueError(f"unknown route {via!r}")
    if not subject.strip():
        raise InvalidTransition("Give the request a subject.")
    actor = Actor.for_contact(contact)
    client = contact.client
    owner = routing.intake_owner(client.department)
    now = now or timezone.now()
    # counted under intake's lock of the department (routing): two at once count each other
    sent = CaseEvent.objects.filter(
        kind=EventKind.OPENED, actor_contact=contact, created_at__gt=now - timedelta(hours=1)
    )
    if sent.count() >= REQUESTS_PER_CONTACT_PER_HOUR:
        raise TooManyRequests(
            f"You have sent {REQUESTS_PER_CONTACT_PER_HOUR} new requests in the last hour: "
            "please add to one of those, or try again later."
        )
    subject = " ".join(subject.split())  # an email's folded subject: one line
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1] + "…"
    case, opened = _new_case(client, subject, description, "normal", owner, actor=actor, now=now)
    stored = attach(case=case, event=opened, files=files, actor=actor, now=now)
    listed = f" Files: {', '.join(a.original_name for a in stored)}." if stored else ""
    tell_holders(
        case,
        previous=None,
        actor=taken_in_by or actor,
        now=now,
        what=f"{contact.name} of {client.name} sent a new request {REQUEST_ROUTES[via]}.{listed}",
    )
    return case


def _new_case(
    client, subject, description, priority, owner, *, actor, now
) -> tuple[Case, CaseEvent]:
    """A new case, with its deadlines, reference, search vectors and first timeline entry."""
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
    search.refresh_search([case.pk])
    opened = record(
        case, actor, EventKind.OPENED, at=now, from_state="", target=owner, client_visible=True
    )
    return case, opened


@transaction.atomic
def case_resolve(
    *, case: Case, actor: Actor, summary: str = "", now: datetime | None = None
) -> Case:
    case = lock(case)
    now = now or timezone.now()
    apply(case, actor, "resolve", EventKind.RESOLVED, now=now, reason=summary, args={"at": now})
    settling.settle_closed_case(case, actor=actor, now=now, why="the case was resolved")
    return case


@transaction.atomic
def case_deny(*, case: Case, actor: Actor, rationale: str, now: datetime | None = None) -> Case:
    """Decline the request; the rationale is shown to the client, who can appeal it."""
    case = lock(case)
    now = now or timezone.now()
    case.denial_rationale = rationale.strip()
    apply(case, actor, "deny", EventKind.DENIED, now=now, reason=rationale, args={"at": now})
    settling.settle_closed_case(case, actor=actor, now=now, why="the request was declined")
    return case


@transaction.atomic
def case_escalate(*, case: Case, actor: Actor, reason: str, now: datetime | None = None) -> Case:
    """Move the case to the owner's manager; at the top, keep it there and flag it.

    Whoever escalates (a person, the client's appeal, the sweep), the new holder and the
    previous one are told at once. A deadline passing at the top tells nobody at once: the
    top holder's daily digest lists it.
    """
    case = lock(case)
    now = now or timezone.now()
    (moved,) = cases_escalate(cases=[case], actor=actor, reasons={case.pk: reason}, now=now)
    return moved.case


@dataclass(frozen=True)
class Escalated:
    case: Case
    previous: StaffProfile
    to: StaffProfile | None  # None: nobody is above; it stays with `previous`, flagged


@transaction.atomic
def cases_escalate(
    *, cases: list[Case], actor: Actor, reasons: dict[int, str], now: datetime
) -> list[Escalated]:
    """case_escalate for many cases at once (the sweep's), each locked by the caller in
    this transaction: case_escalate's lock, or the sweep's claim. What they need is read
    once for all of them (owners' chains, policies and calendars, clients' contacts) and
    their writes are made together (casedesk.batching): one rule, at any batch size."""
    people = people_with_chains(case.owner_id for case in cases)
    for case in cases:
        case.owner = people[case.owner_id]
    prefetch_related_objects(cases, "client__contacts")
    moved = []
    departments = {case.department_id for case in cases}
    with deadlines.rules_loaded(departments), batching.gathered():
        for case in cases:
            previous, chain = case.owner, chain_of(case.owner)
            to = chain[0] if chain else None
            _escalate_to(case, actor, to, reason=reasons[case.pk], now=now)
            moved.append(Escalated(case=case, previous=previous, to=to))
    return moved


def _escalate_to(
    case: Case,
    actor: Actor,
    to: StaffProfile | None,
    *,
    reason: str,
    now: datetime,
    client_visible: bool | None = None,
    by: Actor | None = None,
) -> Case:
    """`by`: the person behind an automatic move (a risk flag), who is not told of it."""
    previous = case.owner
    case.escalation_reason = reason.strip()
    text = reason.strip()
    if to is None:
        text = f"{text} (already with the top of the chain: {case.owner.name})"
    if to is None and actor.is_system:
        # A passed deadline at the top changes nothing the client sees: a reminder to the
        # top, not news for them (their own appeal there still shows). The breach stays
        # shown, with the time that was promised, until a person acts.
        client_visible = False if client_visible is None else client_visible
        case.late_since = case.late_since or case.due_at
    apply(
        case,
        actor,
        "escalate",
        EventKind.ESCALATED,
        now=now,
        reason=text,
        target=to or case.owner,
        deadline=deadlines.escalation_deadline(case, now=now),
        args={"to": to},
        client_visible=client_visible,
    )
    if to is not None:
        what = f"Escalated: {reason}"
        tell_holders(case, previous=previous, actor=by or actor, now=now, what=what)
    elif not actor.is_system:
        tell_holder(
            case,
            actor=actor,
            now=now,
            subject="escalated to you, the top of the chain",
            body=f"{actor} escalated {case.reference} and nobody is above you: {reason}",
        )
    return case


@transaction.atomic
def case_return_with_guidance(
    *, case: Case, actor: Actor, guidance: str, now: datetime | None = None
) -> Case:
    """Send an escalated case back to whoever worked it, with what to do next."""
    case = lock(case)
    now = now or timezone.now()
    if not guidance.strip():
        raise InvalidTransition("Returning a case needs guidance for whoever works it next.")
    previous = case.owner
    apply(
        case,
        actor,
        "return_with_guidance",
        EventKind.RETURNED,
        now=now,
        reason=guidance,
        target=case.returns_to or case.owner,
        deadline=deadlines.working_deadline(case, now=now),
    )
    tell_holders(case, previous=previous, actor=actor, now=now, what=f"Returned: {guidance}")
    return case


@transaction.atomic
def case_reopen(*, case: Case, actor: Actor, reason: str = "", now: datetime | None = None) -> Case:
    case = lock(case)
    now = now or timezone.now()
    until = deadlines.client_reopen_until(case)
    if actor.is_client and until is not None and now > until:
        raise InvalidTransition(
            f"Cases can be reopened here within {settings.CASEDESK_CLIENT_REOPEN_DAYS} days; "
            "please open a new request."
        )
    case.resolution_due_at = deadlines.resolution_due(case, now=now)
    apply(
        case,
        actor,
        "reopen",
        EventKind.REOPENED,
        now=now,
        reason=reason,
        client_visible=True,
        deadline=deadlines.working_deadline(case, now=now),
    )
    tell_holder(
        case,
        actor=actor,
        now=now,
        subject="reopened",
        body=f"{actor} reopened {case.reference}" + (f": {reason.strip()}" if reason else "."),
    )
    return case


@cleaned_up_on_failure
@transaction.atomic
def case_add_note(
    *,
    case: Case,
    actor: Actor,
    text: str,
    client_visible: bool = False,
    files: Sequence = (),
    now: datetime | None = None,
) -> Case:
    """An internal note, or (client_visible) a message the client reads on the status page,
    with any files attached (the client can download a message's)."""
    case = lock(case)
    now = now or timezone.now()
    if not permissions.may_write_on(case, actor):
        raise NotPermitted(f"You may not write on {case.reference}.")
    if not text.strip():
        raise InvalidTransition("Write something first: the note is empty.")
    if client_visible:
        count_as_response(case, actor, now)
    touch(case, now)
    kind = EventKind.MESSAGE if client_visible else EventKind.NOTE
    event = record(case, actor, kind, at=now, reason=text, client_visible=client_visible)
    attach(case=case, event=event, files=files, actor=actor, now=now)
    return case


@transaction.atomic
def case_reassign(
    *,
    case: Case,
    actor: Actor,
    to: StaffProfile,
    reason: str = "",
    now: datetime | None = None,
) -> Case:
    """A supervisor (or above) gives an active case to someone else in its department."""
    case = lock(case)
    now = now or timezone.now()
    if not permissions.may_reassign(case, actor):
        if not case.is_active:
            raise InvalidTransition("Only a case that is being worked can be reassigned.")
        raise NotPermitted(f"Only a supervisor over {case.owner.name} can reassign this case.")
    if to.department_id != case.department_id:
        raise InvalidTransition(f"{to.name} does not work in {case.department}.")
    if to.pk == case.owner_id:
        raise InvalidTransition(f"{to.name} already holds this case.")
    previous = case.owner
    case.owner = to
    case.at_top_of_chain = False  # its next miss climbs from its new holder
    hand_over_callbacks(case, now=now)
    schedule(case, deadlines.working_deadline(case, now=now))
    touch(case, now)
    record(case, actor, EventKind.REASSIGNED, at=now, reason=reason, target=to)
    what = f"{actor} reassigned it" + (f": {reason.strip()}" if reason.strip() else ".")
    tell_holders(case, previous=previous, actor=actor, now=now, what=what)
    return case


@transaction.atomic
def case_flag_risk(
    *, case: Case, actor: Actor, risk: str, reason: str, now: datetime | None = None
) -> Case:
    """A legal threat, a regulator, the press: straight to the lowest manager over every
    department involved (the case's and those it was handed to), audited in the timeline."""
    case = lock(case)
    now = now or timezone.now()
    if not permissions.may_flag_risk(case, actor):
        raise NotPermitted(f"You may not flag {case.reference}.")
    if not reason.strip():
        raise InvalidTransition("Say what the risk is.")
    if risk not in Risk.values:
        raise InvalidTransition("Choose a kind of risk.")
    case.risk, case.risk_reason = risk, reason.strip()
    departments = {case.department, *(h.to_department for h in case.handoffs.all())}
    manager = lowest_common_manager(*departments)
    label = Risk(risk).label.lower()
    record(
        case,
        actor,
        EventKind.RISK_FLAGGED,
        at=now,
        reason=f"{Risk(risk).label}: {reason.strip()}",
        target=manager,
    )
    can_move = (
        manager is not None
        and manager.pk != case.owner_id
        and case.state
        in {CaseState.OPEN, CaseState.ESCALATED, CaseState.CROSS_DEPARTMENT, CaseState.DENIED}
    )
    if not can_move:
        touch(case, now)
        tell_holder(
            case,
            actor=actor,
            now=now,
            subject=f"{label} flagged",
            body=f"{actor} flagged a {label} on {case.reference}: {reason.strip()}",
        )
        return case
    names = ", ".join(sorted(d.name for d in departments))
    return _escalate_to(
        case,
        SYSTEM,
        manager,
        reason=f"Automatic: a {label} was flagged by {actor}, so the case goes straight to "
        f"{manager.name}, the lowest manager over {names}.",
        now=now,
        client_visible=False,  # the client sees who has the case, not why
        by=actor,
    )


@transaction.atomic
def case_reissue_status_link(*, case: Case, actor: Actor, now: datetime | None = None) -> Case:
    """Revoke the client's status link and issue a new one (e.g. it was forwarded)."""
    case = lock(case)
    now = now or timezone.now()
    if not permissions.may_write_on(case, actor):
        raise NotPermitted(f"You may not reissue {case.reference}'s status link.")
    case.status_nonce = new_status_nonce()
    touch(case, now)
    record(
        case, actor, EventKind.STATUS_LINK_REISSUED, at=now, reason="The old link no longer works."
    )
    return case


@transaction.atomic
def case_wait_for_client(
    *, case: Case, actor: Actor, question: str, now: datetime | None = None
) -> Case:
    """Ask the client something and pause the clock until they answer."""
    case = lock(case)
    now = now or timezone.now()
    if not permissions.may_pause(case, actor):
        if permissions.is_owner_or_above(case, actor):
            raise InvalidTransition("Only an open case that is not already waiting can be paused.")
        raise NotPermitted(f"You may not pause {case.reference}.")
    if not question.strip():
        raise InvalidTransition("Tell the client what you need from them.")
    case.waiting_on_client_since = now
    case.paused_remaining = deadlines.remaining(case, now=now)
    case.paused_kind = case.due_kind
    schedule(case, deadlines.client_reply_deadline(case, now=now))
    touch(case, now)
    record(case, actor, EventKind.WAITING_ON_CLIENT, at=now, reason=question, client_visible=True)
    return case


@cleaned_up_on_failure
@transaction.atomic
def case_client_message(
    *,
    case: Case,
    actor: Actor,
    text: str,
    files: Sequence = (),
    now: datetime | None = None,
    taken_in_by: Actor | None = None,
) -> Case:
    """A client contact writes on their case (with files, if any): it reaches whoever holds
    it and starts their clock for a reply; if the case was waiting on the client, its clock
    resumes. `taken_in_by`: the staff member who took it in from held email (inbound), who
    is not told of what they just did."""
    case = lock_case(pk=case.pk)
    now = now or timezone.now()
    if not permissions.is_contact_of_client(case, actor):
        raise NotPermitted("Only the client's own contacts can write here.")
    if not text.strip():
        raise InvalidTransition("Write something first: the message is empty.")
    message = record(
        case,
        actor,
        EventKind.MESSAGE,
        at=now,
        reason=text,
        client_visible=True,
        email_client=False,
    )
    stored = attach(case=case, event=message, files=files, actor=actor, now=now)
    _resume_clock(case, actor, now, why="The client answered.")
    start_reply_clock(case, now)
    touch(case, now)
    tell_holder(
        case,
        actor=taken_in_by or actor,
        now=now,
        subject="the client wrote",
        body=f"{actor} wrote on {case.reference}:\n\n{text.strip()}\n\n"
        + (f"Files attached: {', '.join(a.original_name for a in stored)}\n\n" if stored else "")
        + (f"Please reply by {site_time(case.due_at)}." if case.is_active else ""),
    )
    notify_client(case=case, event=message, actor=actor)  # told what happens next, resumed
    return case


@transaction.atomic
def case_resume_clock(
    *, case: Case, actor: Actor, note: str = "", now: datetime | None = None
) -> Case:
    """Staff record that the client answered another way (a call, say)."""
    case = lock(case)
    now = now or timezone.now()
    if not permissions.may_resume(case, actor):
        if permissions.may_write_on(case, actor):
            raise InvalidTransition("This case is not waiting on the client.")
        raise NotPermitted(f"You may not resume {case.reference}.")
    _resume_clock(case, actor, now, why=note or "The client answered.")
    touch(case, now)
    return case


def _resume_clock(case: Case, actor: Actor, now: datetime, *, why: str) -> None:
    if not case.waiting_on_client_since:
        return
    paused_for = now - case.waiting_on_client_since
    schedule(case, deadlines.resumed(case, now=now))
    case.waiting_on_client_since, case.paused_remaining, case.paused_kind = None, None, ""
    record(
        case,
        actor,
        EventKind.CLOCK_RESUMED,
        at=now,
        reason=f"{why} The clock was paused for {timesince(now - paused_for, now)}.",
    )
