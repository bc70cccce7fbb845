"""Bring a case into any state, and take any transition, through the services."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
from django.core import mail
from django.db import connection, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from casedesk import handoffs, services
from casedesk.actors import SYSTEM, Actor
from casedesk.callbacks import callback_request
from casedesk.models import CaseState, HandOffState, Notification
from casedesk.notifications import notifications_deliver_pending
from escalation.exceptions import exception_request
from escalation.models import ExceptionKind
from tests.factories import DemoOrg, open_case

DESIGN_TABLE = {
    # transition: (sources, target), exactly as in design.md
    "resolve": ({"open", "escalated"}, "resolved"),
    "deny": ({"open", "escalated"}, "denied"),
    "escalate": ({"open", "denied", "cross_department", "escalated"}, "escalated"),
    "request_handoff": ({"open", "escalated"}, "cross_department"),
    "complete_handoff": ({"cross_department"}, "open"),
    "return_with_guidance": ({"escalated"}, "open"),
    "reopen": ({"resolved", "denied"}, "open"),
}


def actor_named(org: DemoOrg, name: str) -> Actor:
    if name == "system":
        return SYSTEM
    person = getattr(org, name)
    return Actor.for_contact(person) if name in {"sam", "alex"} else Actor.for_staff(person)


def case_in_state(org: DemoOrg, state: str):
    """A Harbor Dental case owned by joanne, brought to `state` the way people would."""
    joanne = Actor.for_staff(org.joanne)
    case = open_case(org)
    reached_by = {
        CaseState.ESCALATED: "escalate",
        CaseState.DENIED: "deny",
        CaseState.RESOLVED: "resolve",
        CaseState.CROSS_DEPARTMENT: "request_handoff",
    }
    if state in reached_by:
        take(org, reached_by[state], case, joanne)
    case.refresh_from_db()
    return case


def take(org: DemoOrg, name: str, case, actor: Actor):
    """Take transition `name` on `case` as `actor`, with valid data, through its service."""
    if name == "resolve":
        return services.case_resolve(case=case, actor=actor, summary="Done.")
    if name == "deny":
        return services.case_deny(case=case, actor=actor, rationale="Policy 4.2 applies.")
    if name == "escalate":
        return services.case_escalate(case=case, actor=actor, reason="Needs more authority.")
    if name == "request_handoff":
        return handoffs.handoff_request(
            case=case,
            actor=actor,
            to_department=org.institutional,
            accountable=org.devon,
            request="Please check the mapping.",
            shared_summary="Billing move.",
        )
    if name == "complete_handoff":
        handoff = case.handoffs.get(state=HandOffState.OPEN)
        return handoffs.handoff_complete(handoff=handoff, actor=actor, answer="Re-mapped.")
    if name == "return_with_guidance":
        return services.case_return_with_guidance(case=case, actor=actor, guidance="Refund it.")
    if name == "reopen":
        return services.case_reopen(case=case, actor=actor, reason="Still charged twice.")
    raise AssertionError(f"unknown transition {name}")


def deliver_outbox() -> list:
    """Deliver what is queued (as a worker would) and return every email sent so far."""
    notifications_deliver_pending(now=_outbox_now())
    return list(mail.outbox)


def settle_outbox() -> None:
    """Deliver what is queued so far and forget it: a test then sees only what follows."""
    notifications_deliver_pending(now=_outbox_now())
    mail.outbox.clear()


def _outbox_now():
    """A worker's clock when it gets to the queue: now, or the instant of the latest change
    if the test travelled ahead to make it (rows carry their change's time)."""
    latest = Notification.objects.aggregate(latest=Max("next_attempt_at"))["latest"]
    return max(timezone.now(), latest) if latest else timezone.now()


def next_working_hour():
    """11:00 on a working day at least a day ahead, inside the demo calendar's hours
    (Mon-Fri 9-17 London, English holidays): a time a client may book a call for."""
    moment = timezone.localtime(timezone.now(), ZoneInfo("Europe/London")) + timedelta(days=1)
    moment = moment.replace(hour=11, minute=0, second=0, microsecond=0)
    while moment.weekday() >= 5 or moment.date() in holidays.country_holidays("GB"):
        moment += timedelta(days=1)
    return moment


def ask_devon(org: DemoOrg, case, *, now=None):
    """Joanne asks Institutional Services (devon accountable) to re-map the accounts."""
    return handoffs.handoff_request(
        case=case,
        actor=Actor.for_staff(org.joanne),
        to_department=org.institutional,
        accountable=org.devon,
        request="Re-map the accounts",
        shared_summary="Two accounts to re-map",
        now=now,
    )


@contextmanager
def locked_by_another_transaction(
    rows: QuerySet, *, at_most: float = 30
) -> Iterator[threading.Thread]:
    """`rows` locked (SELECT ... FOR UPDATE) by a transaction in a thread of its own, as by
    someone acting on them, until the block ends (or `at_most` seconds pass: the thread then
    ends, which a test can see). Real locks: a transactional test on PostgreSQL."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                list(rows.select_for_update())
                locked.set()
                release.wait(timeout=at_most)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10), "the other transaction never took its lock"
        yield holder
    finally:
        release.set()
        holder.join(timeout=10)


def book_call(case):
    """The client books a call-back through the status link, at a time the calendar allows."""
    return callback_request(
        case=case,
        actor=Actor.for_status_link(case.client_id),
        phone="+44 20 7946 0101",
        at=next_working_hour(),
        time_zone="Europe/London",
    )


def ask_for_a_refund(org: DemoOrg, case):
    """joanne asks for a 250 refund on `case`: an exception request on its way up."""
    return exception_request(
        case=case,
        actor=Actor.for_staff(org.joanne),
        kind=ExceptionKind.objects.create(name="Refund"),
        amount=Decimal("250"),
        justification="Charged twice.",
    )
