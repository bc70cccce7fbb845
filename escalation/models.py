from django.db import models
from django.utils import timezone

from accounts.models import StaffProfile
from casedesk.models import Case, DeadlineKind, HandOff


class Escalation(models.Model):
    """One passed deadline, escalated: the database's guarantee of "exactly once".

    Unique per (case, deadline) and per (hand-off, deadline): however many sweeps run at
    once and however often a task is redelivered, a second escalation of the same missed
    deadline cannot be written.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="escalations")
    handoff = models.ForeignKey(
        HandOff, on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    deadline_due_at = models.DateTimeField()
    deadline_kind = models.CharField(max_length=20, choices=DeadlineKind.choices, blank=True)
    level = models.PositiveSmallIntegerField()
    from_person = models.ForeignKey(StaffProfile, on_delete=models.PROTECT, related_name="+")
    to_person = models.ForeignKey(
        StaffProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when nobody is above: the item stays, flagged.",
    )
    escalated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-escalated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "deadline_due_at"],
                condition=models.Q(handoff__isnull=True),
                name="case_deadline_escalated_once",
            ),
            models.UniqueConstraint(
                fields=["handoff", "deadline_due_at"],
                condition=models.Q(handoff__isnull=False),
                name="handoff_deadline_escalated_once",
            ),
        ]

    def __str__(self) -> str:
        item = f"hand-off {self.handoff_id}" if self.handoff_id else f"case {self.case_id}"
        return f"{item} level {self.level} at {self.escalated_at:%Y-%m-%d %H:%M}"
