"""Escalating what is overdue and warning before it is: the sweep's actions, a batch at a time.

Each function takes a batch that escalation.due claimed in the caller's transaction (rows
locked, re-checked as still due, each case before its items), reads what the whole batch
needs in a fixed number of queries (chains, policies and calendars, clients and their
contacts), writes the timeline events, Escalation rows and outbox rows of all of it
together (casedesk.batching), and returns a line per item describing what it did.

An Escalation row is unique per missed deadline: a deadline found escalated already is
left alone (logged), so nothing is escalated twice however many sweeps run.

Cases escalate through casedesk.services.cases_escalate, the rule a person's escalation
goes through. Hand-offs, call-backs and exception requests go through one pair of
functions, items_escalate_overdue and items_warn_before_breach, told what differs by an
escalation.held Kind.
"""

import logging
from datetime import datetime

from django.db.models import prefetch_related_objects

from accounts.chain import people_with_chains
from accounts.models import StaffProfile
from casedesk import batching, deadlines, services
from casedesk.actors import SYSTEM
from casedesk.changes import record, touch
from casedesk.models import Case, EventKind
from casedesk.notifications import notify
from escalation.held import Kind, Told, late, local
from escalation.models import Escalation

log = logging.getLogger(__name__)


def cases_escalate_overdue(*, cases: list[Case], now: datetime) -> list[str]:
    """Each case to the next person up its owner's chain, through the same rule as a
    person's escalation; at the top it stays, flagged, and the breach stays shown."""
    cases = _not_escalated_yet(cases, link=None)
    missed = {case.pk: _missed_by_case(case, now) for case in cases}
    # Written before the move changes the case: the deadline as it was missed. A breach
    # already standing at the top re-armed; a first miss there is a new one.
    rows = {case.pk: _escalation_row(case, case, case.due_kind, now) for case in cases}
    with batching.gathered():
        moves = services.cases_escalate(
            cases=cases,
            actor=SYSTEM,
            reasons={pk: f"Automatic: {words}." for pk, words in missed.items()},
            now=now,
        )
        lines = []
        for move in moves:
            _went_to(rows[move.case.pk], move.to)
            lines.append(
                f"{move.case.reference}: {missed[move.case.pk]}; {move.previous.name} → "
                + _destination(move.to)
            )
        batching.create_all(list(rows.values()))
    return lines


def cases_warn_before_breach(*, cases: list[Case], now: datetime) -> list[str]:
    """Warn each holder once, before the breach."""
    Case.objects.filter(pk__in=[case.pk for case in cases]).update(warn_at=None)
    people = people_with_chains(case.owner_id for case in cases)
    lines = []
    with batching.gathered():
        for case in cases:
            case.owner = people[case.owner_id]
            kind = case.get_due_kind_display() or "next"
            record(
                case,
                SYSTEM,
                EventKind.WARNED,
                reason=f"Reminder sent: the {kind} deadline is {local(case.due_at)}.",
                target=case.owner,
                at=now,
            )
            notify(
                people=[case.owner],
                case=case,
                now=now,
                subject=f"{case.reference}: {kind} due {local(case.due_at)}",
                body=f"The {kind} deadline of {case.reference} is {local(case.due_at)}. "
                "If it passes, the case goes to your supervisor.",
            )
            lines.append(f"{case.reference}: warned {case.owner.name}, due {local(case.due_at)}")
    return lines


def items_escalate_overdue(*, kind: Kind, items: list, now: datetime) -> list[str]:
    """Each missed deadline of a held item: up to the next person (kind.next_up) on a fresh
    deadline, or, with nobody above, it stays with its holder, flagged. The new holder and
    the previous one (and whoever the kind names) are told; at the top nobody is told at
    once: the daily digest lists it."""
    items = _not_escalated_yet(items, link=kind.link)
    _load(kind, items)
    next_up = kind.next_ups(items)
    lines = []
    with _rules_of(kind, items), batching.gathered():
        for item in items:
            case, previous, to = item.case, item.holder, next_up[item.pk]
            missed = kind.missed(item, now)
            lines.append(
                f"{case.reference} {kind.name}: {missed}; {previous.name} → " + _destination(to)
            )
            first = kind.first_kind if item.escalation_level == 0 else "escalation"
            row = _escalation_row(case, item, first, now, **{kind.link: item})
            batching.create(_went_to(row, to))
            deadline = kind.deadline(item, case, now)
            item.climb(to=to, due_at=deadline.due_at, warn_at=deadline.warn_at)
            batching.save(item)
            touch(case, now)
            told = kind.climbed(item, case, previous=previous, to=to, missed=missed)
            _record(case, kind, item, told, now)
            if to is not None:
                notify(people=told.people, case=case, subject=told.subject, body=told.body, now=now)
    return lines


def items_warn_before_breach(*, kind: Kind, items: list, now: datetime) -> list[str]:
    """Warn each holder once, before the breach."""
    _load(kind, items)
    lines = []
    with batching.gathered():
        for item in items:
            item.warn_at = None
            batching.save(item, fields=["warn_at"])
            told = kind.warning(item, item.case)
            _record(item.case, kind, item, told, now)
            notify(
                people=[item.holder], case=item.case, subject=told.subject, body=told.body, now=now
            )
            lines.append(f"{item.case.reference} {kind.name}: {kind.warned} {item.holder.name}")
    return lines


def _missed_by_case(case: Case, now: datetime) -> str:
    kind = case.get_due_kind_display() or "response"
    return f"the {kind} deadline ({local(case.due_at)}) passed {late(case.due_at, now)}"


def _not_escalated_yet(items: list, *, link: str | None) -> list:
    """The items whose missed deadline has no Escalation row yet. Under the claim's locks
    nobody else can write one meanwhile, so what is found here was escalated before (the
    unique constraint would refuse it again): it is logged and left, as the constraint's
    refusal was before batches."""
    if not items:
        return []
    if link is None:
        escalated = Escalation.objects.filter(
            case_id__in=[case.pk for case in items],
            handoff__isnull=True,
            exception_request__isnull=True,
            callback__isnull=True,
        ).values_list("case_id", "deadline_due_at")
    else:
        escalated = Escalation.objects.filter(
            **{f"{link}_id__in": [item.pk for item in items]}
        ).values_list(f"{link}_id", "deadline_due_at")
    done = set(escalated)
    for item in items:
        if (item.pk, item.due_at) in done:
            log.warning("already escalated, skipped: %s %s", type(item).__name__, item.pk)
    return [item for item in items if (item.pk, item.due_at) not in done]


def _load(kind: Kind, items: list) -> None:
    """Everything the batch reads, in a fixed number of queries: the people (holders,
    requesters, case owners, and everyone above them), the clients and their contacts,
    and the kind's own relations."""
    cases = list({item.case_id: item.case for item in items}.values())
    wanted = [getattr(item, f"{field}_id") for item in items for field in kind.people]
    people = people_with_chains(wanted + [case.owner_id for case in cases])
    for item in items:
        for field in kind.people:
            setattr(item, field, people[getattr(item, f"{field}_id")])
    for case in cases:
        case.owner = people[case.owner_id]
    prefetch_related_objects(cases, "client__contacts")
    prefetch_related_objects(items, *kind.related)


def _rules_of(kind: Kind, items: list):
    return deadlines.rules_loaded(kind.deadline_department(item) for item in items)


def _destination(to: StaffProfile | None) -> str:
    return to.name if to else "stays with them (top of the chain), flagged"


def _escalation_row(case: Case, item, first: str, now: datetime, **link) -> Escalation:
    """The row unique per missed deadline, as the deadline stood when it was missed (who
    it goes to is filled in by _went_to). A deadline re-armed at the top passing again is
    a repeat, not a new miss."""
    return Escalation(
        case=case,
        repeat=item.late_since is not None if item is case else item.at_top_of_chain,
        deadline_due_at=item.due_at,
        deadline_kind=first,
        level=item.escalation_level,
        from_person_id=case.owner_id if item is case else item.holder.pk,
        escalated_at=now,
        **link,
    )


def _went_to(row: Escalation, to: StaffProfile | None) -> Escalation:
    row.to_person = to
    row.level += 1 if to else 0
    return row


def _record(case: Case, kind: Kind, item, told: Told, now: datetime) -> None:
    record(
        case,
        SYSTEM,
        told.event,
        reason=told.reason,
        target=item.holder,
        handoff=item if kind.link == "handoff" else None,  # the timeline links hand-offs
        client_visible=told.client_visible,
        at=now,
    )
