"""The sweep's one protocol for items held against a deadline besides the case itself.

Hand-offs, call-backs and exception requests share one shape (casedesk.models.held.HeldItem)
and are warned and escalated by the same two functions in escalation.services, a batch at a
time. What differs between them is said here, once per kind: who is next up, the new
deadline, what a batch reads, and the words of the timeline entry and of the emails. Adding
a kind of held item is adding a Kind.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.timesince import timesince

from accounts.chain import chain_of, is_above, lowest_common_managers
from accounts.models import StaffProfile
from casedesk import deadlines
from casedesk.models import (
    ACTIVE_STATES,
    CallBack,
    CallBackState,
    Case,
    EventKind,
    HandOff,
    HandOffState,
)
from casedesk.models.held import HeldItem
from casedesk.plain_words import client_time
from escalation.models import ExceptionRequest, ExceptionState


def local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%a %d %b %H:%M %Z")


def late(due_at: datetime, now: datetime) -> str:
    return "just now" if now - due_at < timedelta(minutes=1) else f"{timesince(due_at, now)} ago"


@dataclass(frozen=True)
class Told:
    """A timeline entry and the email that go with one step of an item."""

    event: EventKind
    reason: str
    subject: str
    body: str
    people: tuple = ()
    client_visible: bool = False


class Kind:
    """How one kind of held item climbs and is warned; subclasses fill in the words."""

    name: str  # as in the sweep's report lines: "hand-off", "call-back", "exception"
    model: type[HeldItem]
    active: str  # the state in which it is held against a deadline
    link: str  # its field on escalation.Escalation
    first_kind: str  # the Escalation.deadline_kind of its first missed deadline
    people: tuple[str, ...]  # its fields naming staff, read with their chains for a batch
    related: tuple[str, ...] = ()  # its other relations the words below read
    warned: str = "warned"

    def held(self) -> QuerySet:
        """Items held now, on cases still being worked (a closed case settled its own)."""
        return self.model.objects.filter(state=self.active, case__state__in=ACTIVE_STATES)

    def next_ups(self, items: list) -> dict[int, StaffProfile | None]:
        """Who each item goes to when it is missed (None: nobody above, it stays), by id;
        up the holder's chain, read already for the batch."""
        return {item.pk: next(iter(chain_of(item.holder)), None) for item in items}

    def deadline_department(self, item) -> int:
        """Whose policy and hours set its next deadline."""
        return item.case.department_id

    def deadline(self, item, case: Case, now: datetime) -> deadlines.Deadline:
        return deadlines.escalation_deadline(case, now=now)

    def missed(self, item, now: datetime) -> str:
        raise NotImplementedError

    def climbed(self, item, case: Case, *, previous, to, missed: str) -> Told:
        raise NotImplementedError

    def warning(self, item, case: Case) -> Told:
        raise NotImplementedError


class HandOffKind(Kind):
    name, model, active, link = "hand-off", HandOff, HandOffState.OPEN, "handoff"
    first_kind = "first_response"
    people = ("accountable", "requested_by")
    related = ("to_department", "from_department")

    def next_ups(self, items: list[HandOff]) -> dict[int, StaffProfile | None]:
        """Up the RECEIVING department's chain; past its top, the lowest manager over both
        departments; past that, nobody: it stays, flagged."""
        stuck = [item for item in items if self._manager_inside(item) is None]
        common = lowest_common_managers(
            (item.from_department_id, item.to_department_id) for item in stuck
        )
        return {
            item.pk: self._manager_inside(item) or self._over_both(item, common) for item in items
        }

    @staticmethod
    def _manager_inside(item: HandOff) -> StaffProfile | None:
        manager = item.accountable.manager
        if manager is not None and manager.department_id == item.to_department_id:
            return manager
        return None

    @staticmethod
    def _over_both(item: HandOff, common: dict) -> StaffProfile | None:
        over_both = common[frozenset((item.from_department_id, item.to_department_id))]
        if over_both is not None and is_above(over_both, item.accountable):
            return over_both
        return None

    def deadline_department(self, item: HandOff) -> int:
        return item.to_department_id

    def deadline(self, item: HandOff, case: Case, now: datetime) -> deadlines.Deadline:
        item.case = case
        return deadlines.handoff_deadline(item, now=now, escalated=True)

    def missed(self, item: HandOff, now: datetime) -> str:
        return (
            f"the hand-off to {item.to_department} was not answered by its deadline "
            f"({local(item.due_at)}, {late(item.due_at, now)})"
        )

    def climbed(self, item: HandOff, case: Case, *, previous, to, missed: str) -> Told:
        holder = item.accountable
        convene = to is not None and to.department_id != item.to_department_id
        # Both departments' supervisors hear of it: the requesting side's through the
        # requester's manager, the receiving side's as the previous or the new holder.
        return Told(
            event=EventKind.HANDOFF_ESCALATED,
            reason=f"Automatic: {missed}. Now with {holder.name}, due {local(item.due_at)}.",
            subject=f"{case.reference}: hand-off to {item.to_department} escalated",
            body=f"{missed.capitalize()}. It is now with {holder.name}"
            + (" (who can convene both departments)" if convene else "")
            + f", due {local(item.due_at)}.",
            people=(holder, previous, item.requested_by, item.requested_by.manager),
        )

    def warning(self, item: HandOff, case: Case) -> Told:
        return Told(
            event=EventKind.WARNED,
            reason=f"Reminder sent: the hand-off is due {local(item.due_at)}.",
            subject=f"{case.reference}: hand-off due {local(item.due_at)}",
            body=f"{item.from_department} is waiting on your answer by {local(item.due_at)}. "
            "If it passes, the hand-off goes to your supervisor.",
        )


class CallBackKind(Kind):
    """A missed call goes to the holder's manager, who gets one escalation step to make
    it. A call promised to a client stands even if the case closed."""

    name, model, active, link = "call-back", CallBack, CallBackState.PENDING, "callback"
    first_kind, warned = "callback", "reminded"
    people = ("accountable",)

    def held(self) -> QuerySet:
        return self.model.objects.filter(state=self.active)

    def missed(self, item: CallBack, now: datetime) -> str:
        return f"the call booked for {client_time(item.requested_for, item.time_zone)} was missed"

    def climbed(self, item: CallBack, case: Case, *, previous, to, missed: str) -> Told:
        holder, asked_for = item.accountable, client_time(item.requested_for, item.time_zone)
        return Told(
            event=EventKind.CALLBACK_ESCALATED,
            reason=f"Automatic: the call booked for {asked_for} did not happen. "
            f"{holder.name}, {holder.title}, will call you by {local(item.due_at)}.",
            # The client hears of a new person; a reminder to the top is internal.
            client_visible=to is not None,
            subject=f"{case.reference}: missed call-back, now with {holder.name}",
            body=f"{case.client.name} asked to be called on {item.phone} at {asked_for}; the "
            f"call was not marked done. {holder.name} now has it, due {local(item.due_at)}.",
            people=(holder, previous),
        )

    def warning(self, item: CallBack, case: Case) -> Told:
        return Told(
            event=EventKind.WARNED,
            reason=f"Reminder sent: call {case.client.name} at {local(item.requested_for)}.",
            subject=f"{case.reference}: call the client at {local(item.requested_for)}",
            body=f"{case.client.name} expects your call on {item.phone} at "
            f"{local(item.requested_for)}. Mark it done on the case page afterwards.",
        )


class ExceptionRequestKind(Kind):
    name, model, active = "exception", ExceptionRequest, ExceptionState.PENDING
    link, first_kind = "exception_request", "escalation"
    people, related = ("approver", "requested_by"), ("kind",)

    def missed(self, item: ExceptionRequest, now: datetime) -> str:
        return (
            f"the {item.kind.name.lower()} was not decided by its deadline "
            f"({local(item.due_at)}, {late(item.due_at, now)})"
        )

    def climbed(self, item: ExceptionRequest, case: Case, *, previous, to, missed: str) -> Told:
        holder, what = item.approver, item.kind.name.lower()
        return Told(
            event=EventKind.EXCEPTION_ESCALATED,
            reason=f"Automatic: {previous.name} did not decide the {what} in time; "
            f"now with {holder.name}.",
            subject=f"{case.reference}: decision on a {what} now with {holder.name}",
            body=f"{previous.name} did not decide it in time; {holder.name} now decides it, "
            f"by {local(item.due_at)}. {item.justification}",
            people=(holder, previous, item.requested_by),
        )

    def warning(self, item: ExceptionRequest, case: Case) -> Told:
        what = item.kind.name.lower()
        return Told(
            event=EventKind.WARNED,
            reason=f"Reminder sent: the decision on the {what} is due {local(item.due_at)}.",
            subject=f"{case.reference}: decision on a {what} due {local(item.due_at)}",
            body=f"{item.requested_by.name} is waiting on your decision by "
            f"{local(item.due_at)}. If it passes, it goes to your supervisor.",
        )


KINDS = (HandOffKind(), ExceptionRequestKind(), CallBackKind())
