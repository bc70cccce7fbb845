from django.db import models
from django.utils import timezone

from accounts.models import Department, StaffProfile
from casedesk.models.cases import Case


class HandOffState(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn (the case closed)"


class HandOff(models.Model):
    """A request from a case's department to another, with its own holder and deadline.

    The receiving side sees `shared_summary`, never the client's contact details.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="handoffs")
    from_department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    to_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="incoming_handoffs"
    )
    requested_by = models.ForeignKey(StaffProfile, on_delete=models.PROTECT, related_name="+")
    accountable = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, related_name="accountable_handoffs"
    )
    request = models.TextField(help_text="What is asked of the other department.")
    shared_summary = models.TextField(help_text="What the other department may see of the case.")
    state = models.CharField(max_length=10, choices=HandOffState.choices, default=HandOffState.OPEN)
    due_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    warn_at = models.DateTimeField(null=True, blank=True)
    at_top_of_chain = models.BooleanField(
        default=False, help_text="Past the lowest manager over both departments: flagged."
    )
    answer = models.TextField(blank=True, help_text="The answer, or the reason it was declined.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="handoff_state_due_idx"),
            models.Index(fields=["state", "warn_at"], name="handoff_state_warn_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state=HandOffState.OPEN) | models.Q(due_at__isnull=False),
                name="open_handoff_has_deadline",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_department=models.F("to_department")),
                name="handoff_crosses_departments",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference} → {self.to_department}"
