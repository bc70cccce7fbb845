"""Exception requests: ask, decide, and (through the sweep) climb when left undecided."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from casedesk import deadlines, permissions, settling
from casedesk.actors import Actor
from casedesk.changes import lock_case, record, schedule, touch
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import Case, EventKind
from casedesk.notifications import notify
from escalation.authority import may_decide, route_exception
from escalation.models import ExceptionKind, ExceptionRequest, ExceptionState


def _deadline(case: Case, now: datetime) -> deadlines.Deadline:
    return deadlines.escalation_deadline(case, now=now)


def _describe(kind: ExceptionKind, amount: Decimal | None) -> str:
    return f"{kind.name} of {amount}" if amount is not None else kind.name


@transaction.atomic
def exception_request(
    *,
    case: Case,
    actor: Actor,
    kind: ExceptionKind,
    amount: Decimal | None,
    justification: str,
    now: datetime | None = None,
) -> ExceptionRequest:
    case = lock_case(pk=case.pk)
    if not permissions.may_write_on(case, actor):
        raise NotPermitted(f"You may not ask for exceptions on {case.reference}.")
    if not case.is_active:
        raise InvalidTransition("Exceptions are asked for on cases that are being worked.")
    if kind.has_amount and amount is None:
        raise InvalidTransition(f"A {kind.name.lower()} needs an amount.")
    if amount is not None and amount <= 0:
        raise InvalidTransition("The amount must be more than zero.")
    if not justification.strip():
        raise InvalidTransition("Say why the exception is justified.")
    route = route_exception(requester=actor.staff, kind=kind, amount=amount)
    if route is None:
        raise InvalidTransition("Nobody is above you to approve this: decide it on the case.")
    now = now or timezone.now()
    request = ExceptionRequest(
        case=case,
        kind=kind,
        amount=amount if kind.has_amount else None,
        justification=justification.strip(),
        requested_by=actor.staff,
        approver=route.approver,
        beyond_authority=route.beyond_authority,
        created_at=now,
    )
    schedule(request, _deadline(case, now))
    request.save()
    request.skipped.set(route.skipped)
    skipped = ", ".join(f"{p.name} ({p.get_authority_level_display()})" for p in route.skipped)
    reason = (
        f"{_describe(kind, amount)}: {justification.strip()} Routed to {route.approver.name} "
        f"({route.approver.get_authority_level_display()})"
        + (" as nobody's authority covers it" if route.beyond_authority else "")
        + (f"; skipped {skipped}, whose authority does not cover it." if skipped else ".")
    )
    touch(case, now)
    record(case, actor, EventKind.EXCEPTION_REQUESTED, reason=reason, target=route.approver, at=now)
    notify(
        people=[route.approver],
        case=case,
        subject=f"{case.reference}: decision needed on a {kind.name.lower()}",
        body=f"{actor.staff.name} asks for a {_describe(kind, amount).lower()}. "
        f"{justification.strip()}",
        now=now,
        actor=actor,
    )
    return request


@transaction.atomic
def exception_decide(
    *,
    request: ExceptionRequest,
    actor: Actor,
    approve: bool,
    rationale: str,
    now: datetime | None = None,
) -> ExceptionRequest:
    """Approve or deny with a rationale; a denial reaches the client with the way to appeal."""
    case = Case.objects.select_for_update().get(pk=request.case_id)
    request = (
        ExceptionRequest.objects.select_for_update(of=("self",))
        .select_related("kind", "approver", "requested_by__user")
        .get(pk=request.pk)
    )
    if request.state != ExceptionState.PENDING:
        raise CaseConflict(f"This request was already {request.get_state_display().lower()}.")
    if not actor.is_staff or not may_decide(
        actor.staff, approver=request.approver, kind=request.kind, amount=request.amount
    ):
        raise NotPermitted(f"This decision is {request.approver.name}'s to make.")
    if not rationale.strip():
        raise InvalidTransition("A decision needs its rationale: the client reads a denial's.")
    now = now or timezone.now()
    decide = request.approve if approve else request.deny
    decide(by=actor.staff, rationale=rationale, at=now)
    request.save()
    what = _describe(request.kind, request.amount)
    if approve:
        kind, text = EventKind.EXCEPTION_APPROVED, f"{what} approved: {rationale.strip()}"
    else:
        kind = EventKind.EXCEPTION_DENIED
        text = (
            f"{what} declined: {rationale.strip()} "
            "You can ask for a review by a supervisor from your case's status page."
        )
    touch(case, now)
    record(case, actor, kind, reason=text, client_visible=True, at=now)
    notify(
        people=[request.requested_by, request.approver],
        case=case,
        subject=f"{case.reference}: {what.lower()} {request.get_state_display().lower()}",
        body=f"{actor} decided: {text}",
        now=now,
        actor=actor,
    )
    return request


@settling.when_a_case_closes
def _withdraw_pending_requests(case: Case, *, actor: Actor, now: datetime, why: str) -> None:
    """A closed case needs no more decisions: pending requests are withdrawn, recorded, and
    their approvers told, so nothing waits on a dashboard with nobody able to act."""
    pending = ExceptionRequest.objects.select_for_update(of=("self",)).select_related(
        "kind", "approver__user", "requested_by__user"
    )
    for request in pending.filter(case=case, state=ExceptionState.PENDING):
        request.withdraw(why=why, at=now)
        request.save()
        what = _describe(request.kind, request.amount)
        record(
            case,
            actor,
            EventKind.EXCEPTION_WITHDRAWN,
            at=now,
            reason=f"The request for a {what.lower()} is withdrawn: {why}.",
            target=request.approver,
        )
        notify(
            people=[request.approver, request.requested_by],
            case=case,
            subject=f"{case.reference}: {what.lower()} withdrawn",
            body=f"No decision is needed any more on the {what.lower()}: {why}.",
            now=now,
            actor=actor,
        )
