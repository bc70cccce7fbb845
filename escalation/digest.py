"""The daily digest for whoever is at the top of chains.

A deadline that passes at the top of a chain re-arms there (nobody is above to take it),
so instead of an email per item per step the top holder gets one email a day, in their
department's business hours, listing everything stalled with them. Something new arriving
at the top is still told at once, by the action that moved it there.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import StaffProfile
from casedesk import deadlines
from casedesk.actors import SYSTEM
from casedesk.models import ACTIVE_STATES, CallBack, CallBackState, Case, HandOff, HandOffState
from casedesk.notifications import notify
from casedesk.plain_words import site_time
from escalation.models import ExceptionRequest, ExceptionState, TopDigest


@dataclass(frozen=True)
class Stalled:
    reference: str
    what: str
    due_at: datetime


def stalled_at_the_top(person: StaffProfile) -> list[Stalled]:
    """Everything flagged at the top of a chain that `person` holds, soonest first."""
    cases = Case.objects.filter(owner=person, state__in=ACTIVE_STATES, at_top_of_chain=True)
    handoffs = HandOff.objects.filter(
        accountable=person, state=HandOffState.OPEN, at_top_of_chain=True
    ).select_related("case", "to_department")
    callbacks = CallBack.objects.filter(
        accountable=person, state=CallBackState.PENDING, at_top_of_chain=True
    ).select_related("case")
    requests = ExceptionRequest.objects.filter(
        approver=person, state=ExceptionState.PENDING, at_top_of_chain=True
    ).select_related("case", "kind")
    items = [Stalled(c.reference, f"case: {c.subject}", c.due_at) for c in cases]
    items += [
        Stalled(h.case.reference, f"hand-off to {h.to_department}", h.due_at) for h in handoffs
    ]
    items += [Stalled(c.case.reference, f"call-back to {c.phone}", c.due_at) for c in callbacks]
    items += [Stalled(r.case.reference, f"decision on a {r.kind.name}", r.due_at) for r in requests]
    return sorted(items, key=lambda item: item.due_at)


def people_at_the_top_with_stalled_items() -> list[StaffProfile]:
    ids = set(
        Case.objects.filter(state__in=ACTIVE_STATES, at_top_of_chain=True).values_list(
            "owner_id", flat=True
        )
    )
    ids |= set(
        HandOff.objects.filter(state=HandOffState.OPEN, at_top_of_chain=True).values_list(
            "accountable_id", flat=True
        )
    )
    ids |= set(
        CallBack.objects.filter(state=CallBackState.PENDING, at_top_of_chain=True).values_list(
            "accountable_id", flat=True
        )
    )
    ids |= set(
        ExceptionRequest.objects.filter(
            state=ExceptionState.PENDING, at_top_of_chain=True
        ).values_list("approver_id", flat=True)
    )
    return list(StaffProfile.objects.filter(pk__in=ids).select_related("user"))


def digests_send(*, now: datetime) -> list[str]:
    """Send each top holder their digest once a day, inside their business hours; the
    lines say who got one. Safe to run concurrently: the day's row is the claim."""
    lines = []
    for person in people_at_the_top_with_stalled_items():
        line = _digest_send(person, now=now)
        if line:
            lines.append(line)
    return lines


def _digest_send(person: StaffProfile, *, now: datetime) -> str | None:
    hours = deadlines.hours_for(person.department_id)
    if not hours.is_working_time(now):
        return None
    day = timezone.localtime(now, hours.zone).date()
    if TopDigest.objects.filter(person=person, day=day).exists():
        return None
    items = stalled_at_the_top(person)
    if not items:
        return None
    try:
        with transaction.atomic():
            TopDigest.objects.create(person=person, day=day, items=len(items), sent_at=now)
            notify(
                people=[person],
                case=None,
                subject=f"{len(items)} item(s) stalled with you at the top of the chain",
                body="Nobody is above you to take these; each waits on you:\n\n"
                + "\n".join(
                    f"- {item.reference}, {item.what}: due {site_time(item.due_at)}"
                    for item in items
                ),
                now=now,
                actor=SYSTEM,
            )
    except IntegrityError:
        return None  # another sweep sent today's
    return f"digest to {person.name}: {len(items)} stalled item(s)"
