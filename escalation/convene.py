"""Convening the parties of a stalled hand-off: both departments and, if wanted, the client.

The invitation goes through the outbox as an email with an iCalendar invite, and the
meeting is recorded in the case timeline.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from accounts.models import StaffProfile
from casedesk import deadlines, permissions
from casedesk.actors import Actor
from casedesk.changes import lock_case, record, touch
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import Case, EventKind, HandOff, HandOffState
from casedesk.notifications import notify
from escalation.models import Escalation


def handoff_parties(handoff: HandOff) -> list[StaffProfile]:
    """Who a meeting on the hand-off is for, before the convener adds anyone: its requester
    and their supervisor; whoever held it first in the receiving department and their
    supervisor; and whoever holds it now.

    After climbs the hand-off (and often the case) sits with the director on both sides, so
    the people who did the work are found where it started, not where it is now.
    """
    first_climb = (
        Escalation.objects.filter(handoff=handoff)
        .select_related("from_person__user", "from_person__manager__user")
        .order_by("escalated_at", "pk")
        .first()
    )
    receiver = first_climb.from_person if first_climb else handoff.accountable
    return _unique(
        [
            handoff.requested_by,
            handoff.requested_by.manager,
            receiver,
            receiver.manager,
            handoff.accountable,
        ]
    )


def handoff_invitable(handoff: HandOff) -> QuerySet[StaffProfile]:
    """Whom a convener may invite: the staff of both departments, and the parties (a
    director over both may sit in neither)."""
    parties = [person.pk for person in handoff_parties(handoff)]
    return (
        StaffProfile.objects.filter(
            Q(department_id__in=[handoff.from_department_id, handoff.to_department_id])
            | Q(pk__in=parties),
            user__is_active=True,
        )
        .select_related("user", "department")
        .order_by("department__name", "user__first_name", "user__last_name", "user__username")
    )


def _unique(people: Iterable[StaffProfile | None]) -> list[StaffProfile]:
    unique: list[StaffProfile] = []
    for person in people:
        if person is not None and all(person.pk != seen.pk for seen in unique):
            unique.append(person)
    return unique


def invite(
    *,
    uid: str,
    organizer,
    attendees,
    starts_at: datetime,
    duration: timedelta,
    summary: str,
    description: str,
    stamped_at: datetime,
    organizer_email: str = "",
) -> str:
    calendar = Calendar()
    calendar.add("prodid", "-//casedesk//convene//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamped_at)
    event.add("dtstart", starts_at)
    event.add("dtend", starts_at + duration)
    event.add("summary", summary)
    event.add("description", description)
    event["organizer"] = vCalAddress(f"mailto:{organizer_email or organizer.user.email}")
    event["organizer"].params["cn"] = vText(organizer.name)
    for name, email in attendees:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical().decode()


@transaction.atomic
def handoff_convene(
    *,
    handoff: HandOff,
    actor: Actor,
    starts_at: datetime,
    duration: timedelta,
    agenda: str,
    include_client: bool,
    invitees: Iterable[StaffProfile] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Invite the parties of a hand-off (by default `handoff_parties`; the convener may
    choose others of either department) and, if asked, the client's contacts to a meeting
    in the case department's opening hours. The convener is always invited."""
    case = lock_case(pk=handoff.case_id)
    handoff = HandOff.objects.select_related(
        "accountable__user",
        "accountable__manager__user",
        "requested_by__user",
        "requested_by__manager__user",
        "to_department",
        "from_department",
    ).get(pk=handoff.pk)
    handoff.case = case
    if handoff.state != HandOffState.OPEN:
        raise CaseConflict(f"This hand-off was already {handoff.get_state_display().lower()}.")
    if not permissions.may_convene(handoff, actor):
        raise NotPermitted("A supervisor over either side convenes the parties.")
    now = now or timezone.now()
    if starts_at <= now:
        raise InvalidTransition("Choose a time in the future.")
    _require_opening_hours(case, starts_at, starts_at + duration)
    if not agenda.strip():
        raise InvalidTransition("Give the meeting an agenda.")
    # Only the case's own side knows the client: its department or the owner's chain.
    if include_client and not permissions.may_write_on(case, actor):
        raise NotPermitted(f"Only {case.department} can invite its client.")
    invitees = handoff_parties(handoff) if invitees is None else list(invitees)
    invitable = set(handoff_invitable(handoff).values_list("pk", flat=True))
    if any(person.pk not in invitable for person in invitees):
        raise InvalidTransition(
            f"Invite people of {handoff.from_department} or {handoff.to_department}."
        )
    people = _unique([actor.staff, *invitees])
    contacts = list(case.client.contacts.all()) if include_client else []
    if len(people) < 2 and not contacts:
        raise InvalidTransition("Invite at least one other person.")
    names = [p.name for p in people] + (["the client's contacts"] if contacts else [])
    when = timezone.localtime(starts_at).strftime("%a %d %b %Y, %H:%M %Z")
    summary = f"{case.reference}: {handoff.from_department} and {handoff.to_department}"
    uid = f"convene-{handoff.pk}-{int(starts_at.timestamp())}@casedesk"
    meeting = {
        "uid": uid,
        "starts_at": starts_at,
        "duration": duration,
        "summary": summary,
        "description": agenda.strip(),
        "stamped_at": now,
    }
    # Staff see each other; the client's contacts get their own invite. Neither side's
    # invite carries the other's email addresses.
    staff_invite = invite(
        organizer=actor.staff, attendees=[(p.name, p.user.email) for p in people], **meeting
    )
    client_invite = invite(
        organizer=actor.staff,
        organizer_email=settings.DEFAULT_FROM_EMAIL,
        attendees=[(c.name, c.email) for c in contacts],
        **meeting,
    )
    touch(case, now)
    record(
        case,
        actor,
        EventKind.MEETING_CONVENED,
        reason=f"Meeting on {when} ({int(duration.total_seconds() // 60)} minutes) with "
        f"{', '.join(names)}. Agenda: {agenda.strip()}",
        handoff=handoff,
        client_visible=include_client,
        at=now,
        email_client=False,  # the client's contacts get the invitation itself, below
    )
    body = (
        f"{actor.staff.name} asks you to meet on {when} about {case.reference}.\n\n"
        f"Agenda: {agenda.strip()}\n\nParticipants: {', '.join(names)}."
    )
    subject = f"Meeting {when}: {summary}"
    # The convener is invited too: the invitation is their calendar entry as well.
    told = {"case": case, "subject": subject, "body": body, "now": now}
    notify(people=people, calendar=staff_invite, **told)
    if contacts:
        notify(people=contacts, calendar=client_invite, **told)
    return names


def _require_opening_hours(case: Case, starts_at: datetime, ends_at: datetime) -> None:
    """The meeting starts and ends within one working day of the case's department."""
    hours = deadlines.hours_for(case.department_id)
    window = hours.working_window(starts_at.astimezone(hours.zone).date())
    if not hours.is_working_time(starts_at) or window is None or ends_at > window[1]:
        raise InvalidTransition(
            f"Meet within opening hours, {hours.describe()}, except public holidays: "
            "the meeting must start and end then. Please pick another time."
        )
