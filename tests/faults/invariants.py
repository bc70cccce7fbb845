"""What every fault drill checks at its end, once the system has caught up and is quiet:

1. every deadline the drill made pass was escalated exactly once (one Escalation row per
   missed deadline, for cases, hand-offs, call-backs and exception requests);
2. every outbox row became exactly one email (each row sent, and the emails the workers
   wrote, counted per Message-ID, which names the row, are the outbox rows, no more, no
   fewer);
3. no active item is without a person and a deadline.

`settled` says whether the system has caught up (a positive condition to wait for);
`quiet` waits until every live worker has finished two more sweeps after that, so nothing
still in flight can change the counts; `assert_invariants` then checks them. Both take the
emails sent as Message-ID counts: `emails_in` reads them from file-backend directories; a
drill with an SMTP sink counts what the sink received.
"""

import email
import email.policy
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from django.db.models import Count, Q, QuerySet

from casedesk.models import (
    ACTIVE_STATES,
    CallBack,
    CallBackState,
    Case,
    HandOff,
    HandOffState,
    Notification,
    NotificationStatus,
)
from casedesk.notifications import message_id
from escalation.models import Escalation, ExceptionRequest, ExceptionState
from tests.faults.due_items import Due, DueItem
from tests.processes import CeleryProcess, wait_until

SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # between messages in a file-backend file

# How an Escalation row names the item whose deadline it records.
_LINK = {
    Case: ("case_id", Q(handoff=None, exception_request=None, callback=None)),
    HandOff: ("handoff_id", Q()),
    CallBack: ("callback_id", Q()),
    ExceptionRequest: ("exception_request_id", Q()),
}


def escalations_of(due: Due) -> QuerySet:
    """The Escalation rows of these items (of any deadline)."""
    rows = Q(pk__in=[])
    for model, (link, only) in _LINK.items():
        rows |= only & Q(**{f"{link}__in": [item.pk for item in due.of(model)]})
    return Escalation.objects.filter(rows)


def escalations_per_deadline(due: Due) -> dict[DueItem, int]:
    """How many times each missed deadline was escalated: one query per kind of item."""
    counts = {}
    for model, (link, only) in _LINK.items():
        items = due.of(model)
        if not items:
            continue
        rows = (
            Escalation.objects.filter(only, **{f"{link}__in": [item.pk for item in items]})
            .values_list(link, "deadline_due_at")
            .annotate(n=Count("id"))
        )
        found = {(pk, due_at): n for pk, due_at, n in rows}
        counts |= {item: found.get((item.pk, item.due_at), 0) for item in items}
    return counts


def emails_in(mail_dirs: Iterable[Path]) -> Counter:
    """The Message-ID of every email the workers' file backends wrote."""
    sent = Counter()
    for directory in mail_dirs:
        for path in sorted(Path(directory).glob("*.log")) if Path(directory).exists() else []:
            for raw in path.read_bytes().split(SEPARATOR):
                if not raw.strip():
                    continue
                message = email.message_from_bytes(raw, policy=email.policy.default)
                sent[str(message["Message-ID"])] += 1
    return sent


def outbox() -> Counter:
    """The Message-ID of every outbox row's email."""
    return Counter(map(message_id, Notification.objects.only("pk", "created_at")))


def settled(due: Due, sent: Counter) -> bool:
    """Every missed deadline escalated, nothing left to send, and as many emails as rows."""
    if not all(escalations_per_deadline(due).values()):
        return False
    if Notification.objects.exclude(status=NotificationStatus.SENT).exists():
        return False
    return sent.total() >= Notification.objects.count()


def quiet(workers: Iterable[CeleryProcess], *, sweeps: int = 2, timeout: float = 60) -> None:
    """Wait until each live worker finished `sweeps` more sweeps: one may have been under
    way when the drill saw the system settle; the next started after it."""
    for worker in [w for w in workers if w.alive()]:
        target = worker.sweeps_done() + sweeps
        wait_until(
            lambda worker=worker, target=target: worker.sweeps_done() >= target,
            timeout=timeout,
            what=f"{worker.name} to finish {sweeps} more sweeps",
            log=worker.log,
        )


def active_without_holder_or_deadline() -> list[str]:
    problems = []
    for model, active, holder in (
        (Case, Q(state__in=ACTIVE_STATES), "owner"),
        (HandOff, Q(state=HandOffState.OPEN), "accountable"),
        (CallBack, Q(state=CallBackState.PENDING), "accountable"),
        (ExceptionRequest, Q(state=ExceptionState.PENDING), "approver"),
    ):
        lacking = Q(**{f"{holder}__isnull": True}) | Q(due_at__isnull=True)
        problems += [
            f"{model.__name__} {pk} is active without a person or a deadline"
            for pk in model.objects.filter(active & lacking).values_list("pk", flat=True)
        ]
    return problems


def assert_invariants(due: Due, sent: Counter) -> None:
    problems = [
        f"{item.label}: escalated {n} times"
        for item, n in escalations_per_deadline(due).items()
        if n != 1
    ]
    problems += [
        f"outbox row {pk} to {to} ({subject!r}) is {status}, not sent"
        for pk, to, subject, status in Notification.objects.exclude(
            status=NotificationStatus.SENT
        ).values_list("pk", "recipient_email", "subject", "status")
    ]
    queued = outbox()
    problems += [f"{n} email(s) more than rows: {key}" for key, n in (sent - queued).items()]
    problems += [f"{n} row(s) with no email: {key}" for key, n in (queued - sent).items()]
    problems += active_without_holder_or_deadline()
    shown = "\n".join(problems[:40])
    assert not problems, f"{len(problems)} invariant(s) broken, the first 40:\n{shown}"
    assert len(due) > 0, "the drill made nothing due"
    assert queued.total() > 0, "the drill sent nothing"
