"""What a drill makes due: a mix of every deadline-bearing thing, and its record.

The items people hold (cases, hand-offs, call-backs, exception requests) are made through
the services, so they are exactly what the app makes, then their deadline is moved into the
past (the one shortcut: waiting for a real deadline is what the sweep's own tests do with
time-machine). Their escalation emails the next person up and the previous holder.

To keep a sweep busy long enough to be interrupted, a drill adds many cases held at the
top of the chain (lee): inserted in bulk, each escalates (an Escalation row, a timeline
event, a fresh deadline) and tells nobody at once, as design.md says of the top, so the
drill does not wait on thousands of emails.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from accounts.models import AuthorityLevel
from casedesk.actors import Actor
from casedesk.callbacks import callback_request
from casedesk.models import CallBack, Case, HandOff
from escalation.exceptions import exception_request
from escalation.models import AuthorityRule, ExceptionKind, ExceptionRequest
from tests.casedesk.helpers import ask_devon, next_working_hour
from tests.casedesk.workspace import bulk_cases
from tests.factories import DemoOrg, open_case


@dataclass(frozen=True)
class DueItem:
    model: type[Model]
    pk: int
    due_at: datetime

    @property
    def label(self) -> str:
        return f"{self.model.__name__} {self.pk} due {self.due_at:%H:%M:%S.%f}"


@dataclass
class Due:
    """Every deadline a drill made pass: each must be escalated exactly once."""

    items: list[DueItem] = field(default_factory=list)

    def __add__(self, other: "Due") -> "Due":
        return Due(self.items + other.items)

    def __len__(self) -> int:
        return len(self.items)

    def of(self, model: type[Model]) -> list[DueItem]:
        return [item for item in self.items if item.model is model]


def _past(model: type[Model], pks: list[int], *, due_at: datetime) -> Due:
    """Move these items' deadlines to `due_at` (no warning left: it would have been sent)."""
    model.objects.filter(pk__in=pks).update(due_at=due_at, warn_at=None)
    return Due([DueItem(model, pk, due_at) for pk in pks])


@transaction.atomic  # a sweep sees them all due at once, each at the deadline recorded here
def held_items(
    org: DemoOrg, *, each: int = 3, due_at: datetime | None = None, label: str = ""
) -> Due:
    """`each` cases, hand-offs, call-backs and exception requests, all due at `due_at`
    (a minute ago by default): each kind climbs to someone who is emailed."""
    due_at = due_at or timezone.now() - timedelta(minutes=1)
    joanne = Actor.for_staff(org.joanne)
    refund, _ = ExceptionKind.objects.get_or_create(name="Refund")
    AuthorityRule.objects.get_or_create(
        kind=refund,
        min_authority_level=AuthorityLevel.SUPERVISOR,
        defaults={"max_amount": Decimal("500")},
    )
    cases, handoffs, callbacks, exceptions = [], [], [], []
    for n in range(each):
        cases.append(open_case(org, subject=f"{label}Overdue case {n}").pk)
        handoffs.append(ask_devon(org, open_case(org, subject=f"{label}Hand-off {n}")).pk)
        called = open_case(org, subject=f"{label}Call-back {n}")
        callbacks.append(
            callback_request(
                case=called,
                actor=Actor.for_status_link(called.client_id),
                phone="+44 20 7946 0101",
                at=next_working_hour(),
                time_zone="Europe/London",
            ).pk
        )
        asked = open_case(org, subject=f"{label}Refund {n}")
        exceptions.append(
            exception_request(
                case=asked,
                actor=joanne,
                kind=refund,
                amount=Decimal("120"),
                justification="Charged twice.",
            ).pk
        )
    return (
        _past(Case, cases, due_at=due_at)
        + _past(HandOff, handoffs, due_at=due_at)
        + _past(CallBack, callbacks, due_at=due_at)
        + _past(ExceptionRequest, exceptions, due_at=due_at)
    )


@transaction.atomic  # a sweep sees them all due at once, each at the deadline recorded here
def cases_at_the_top(org: DemoOrg, count: int, *, due_at: datetime | None = None) -> Due:
    """`count` cases lee holds (the top of the chain), due at `due_at`: bulk inserted."""
    due_at = due_at or timezone.now() - timedelta(minutes=1)
    start = 900_000 + Case.objects.count()  # references the demo's cases never reach
    cases = bulk_cases(org, count, owner=org.lee, start=start)
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(due_kind="next_update")
    return _past(Case, [c.pk for c in cases], due_at=due_at)
