from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from accounts.models import Department, StaffProfile
from casedesk.keyset import FAR_FUTURE
from casedesk.models.cases import Case, sort_indexes


def reach_indexes(short: str, audience: str) -> list[models.Index]:
    """The queue's sorts after the audience, the case last: the same keys as the case's own
    queue indexes, read from the copies; partial on the audience (the other's rows: none)."""
    only = Q(**{f"{audience}__isnull": False})
    return sort_indexes(f"reach_{short}", audience, last="case", condition=only)


def rare_reach_indexes(short: str, audience: str) -> list[models.Index]:
    """The due order after the audience, partial on the copies of cases at the top of a
    chain and of late ones, as the case's own rare_view_indexes."""
    due = (F(audience), Coalesce("due_at", Value(FAR_FUTURE)), F("case"))
    only = Q(**{f"{audience}__isnull": False})
    return [
        models.Index(*due, condition=only & Q(at_top_of_chain=True), name=f"reach_{short}top_idx"),
        models.Index(
            *due, condition=only & Q(late_since__isnull=False), name=f"reach_{short}lt_idx"
        ),
    ]


class CaseReach(models.Model):
    """A case as one audience sees it through hand-offs: the department a hand-off of the
    case went to, or a hand-off's accountable person; one row per audience and case however
    many hand-offs, with copies of the case's sort keys, so that the queue reads the cases
    handed to an audience from an index range (audience, key, case) as it reads a
    department's own cases.

    Derived and kept by the database, never by our code: triggers (migration 0020) rebuild
    a case's rows whenever one of its hand-offs is created, deleted or changes audience, and
    copy the keys whenever the case's change, whatever writes it (an action, a bulk
    `update()` of the sweep, a migration)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the reach indexes lead with it
    )
    person = models.ForeignKey(
        StaffProfile,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the reach indexes lead with it
    )
    # copies of the case's (selectors.QUEUE_ORDERS reads them under the case's names)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # …and of its marks, which the queue's rare views ask (migration 0024)
    late_since = models.DateTimeField(null=True, blank=True)
    at_top_of_chain = models.BooleanField(default=False)

    class Meta:
        indexes = [
            *reach_indexes("dept_", "department"),
            *reach_indexes("person_", "person"),
            # "Overdue" and "Top of the chain": the due order of the few marked copies
            *rare_reach_indexes("dept_", "department"),
            *rare_reach_indexes("person_", "person"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False, person__isnull=True)
                | Q(department__isnull=True, person__isnull=False),
                name="reach_has_one_audience",
            ),
            models.UniqueConstraint(
                fields=["department", "case"],
                condition=Q(department__isnull=False),
                name="reach_once_per_department",
            ),
            models.UniqueConstraint(
                fields=["person", "case"],
                condition=Q(person__isnull=False),
                name="reach_once_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.case_id} reaches {self.department or self.person}"
