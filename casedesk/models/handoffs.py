from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from accounts.models import Department, StaffProfile
from casedesk import permissions
from casedesk.models.cases import Case
from casedesk.models.held import HeldItem


class HandOffState(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn (the case closed)"


class HandOff(HeldItem):
    """A request from a case's department to another, with its own holder and deadline.

    The receiving side sees `shared_summary`, never the client's contact details.
    Transitions only change fields; casedesk.handoffs runs them.
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
    state = FSMField(
        max_length=10, choices=HandOffState.choices, default=HandOffState.OPEN, protected=True
    )
    shared_attachments = models.ManyToManyField(
        "casedesk.Attachment",
        blank=True,
        related_name="shared_on",
        help_text="The case's files the other department may download, with the summary.",
    )
    answer = models.TextField(blank=True, help_text="The answer, or the reason it was declined.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="handoff_state_due_idx"),
            models.Index(fields=["state", "warn_at"], name="handoff_state_warn_idx"),
            # the queue's hand-off branches: received by a department, held by a person
            models.Index(
                fields=["to_department", "state", "case"], name="handoff_to_dept_case_idx"
            ),
            models.Index(fields=["accountable", "state", "case"], name="handoff_holder_case_idx"),
            models.Index(
                fields=["case"],
                condition=models.Q(at_top_of_chain=True, state=HandOffState.OPEN),
                name="handoff_top_of_chain_idx",
            ),
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

    # --- The state machine; bodies change fields and nothing else ----------------------

    @transition(
        field=state,
        source=HandOffState.OPEN,
        target=HandOffState.OPEN,
        permission=permissions.acts_for_handoff,
    )
    def assign(self, *, to: StaffProfile) -> None:
        """Taken by, or given to, someone on the receiving side; the deadline stays. It is
        no longer stalled at the top: its next miss climbs from its new holder."""
        self.accountable = to
        self.at_top_of_chain = False

    @transition(field=state, source=HandOffState.OPEN, target=HandOffState.OPEN)
    def climb(self, *, to: StaffProfile | None, due_at, warn_at) -> None:
        self._climb(to=to, due_at=due_at, warn_at=warn_at)

    @transition(
        field=state,
        source=HandOffState.OPEN,
        target=HandOffState.COMPLETED,
        permission=permissions.acts_for_handoff,
    )
    def complete(self, *, answer: str, at) -> None:
        self._close(answer, at)

    @transition(
        field=state,
        source=HandOffState.OPEN,
        target=HandOffState.DECLINED,
        permission=permissions.acts_for_handoff,
    )
    def decline(self, *, reason: str, at) -> None:
        self._close(reason, at)

    @transition(field=state, source=HandOffState.OPEN, target=HandOffState.WITHDRAWN)
    def withdraw(self, *, why: str, at) -> None:
        """The case closed: nothing more is needed from the other department."""
        self._close(f"Withdrawn: {why}.", at)

    def _close(self, text: str, at) -> None:
        self.answer, self.closed_at = text.strip(), at
        self._settle()
