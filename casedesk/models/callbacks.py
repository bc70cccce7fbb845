from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from accounts.models import StaffProfile
from casedesk.models.cases import Case
from casedesk.models.clients import ClientContact
from casedesk.models.held import HeldItem


class CallBackState(models.TextChoices):
    PENDING = "pending", "Booked"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"
    REPLACED = "replaced", "Replaced by a later request"


class CallBack(HeldItem):
    """The client asked to be called at a time that suits them: a commitment with its own
    stored deadline, escalated up the holder's chain like any other when it is missed.
    Transitions only change fields; casedesk.callbacks runs them, with its permission rule
    (it needs the case as well as the call, so it is asked there)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="callbacks")
    requested_by = models.ForeignKey(
        ClientContact, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    phone = models.CharField(max_length=40)
    requested_for = models.DateTimeField(help_text="When the client wants the call.")
    time_zone = models.CharField(max_length=64, help_text="The client's zone for that time.")
    note = models.TextField(blank=True)
    accountable = models.ForeignKey(StaffProfile, on_delete=models.PROTECT, related_name="+")
    state = FSMField(
        max_length=10, choices=CallBackState.choices, default=CallBackState.PENDING, protected=True
    )
    completed_by = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["requested_for", "id"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="callback_state_due_idx"),
            models.Index(fields=["state", "warn_at"], name="callback_state_warn_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="pending") | models.Q(due_at__isnull=False),
                name="pending_callback_has_deadline",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(state="pending"),
                name="one_pending_callback_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"call-back on {self.case.reference} at {self.requested_for:%Y-%m-%d %H:%M}"

    @property
    def is_pending(self) -> bool:
        return self.state == CallBackState.PENDING

    # --- The state machine; bodies change fields and nothing else ----------------------

    @transition(field=state, source=CallBackState.PENDING, target=CallBackState.PENDING)
    def climb(self, *, to: StaffProfile | None, due_at, warn_at) -> None:
        self._climb(to=to, due_at=due_at, warn_at=warn_at)

    @transition(field=state, source=CallBackState.PENDING, target=CallBackState.DONE)
    def complete(self, *, by: StaffProfile, outcome: str, at) -> None:
        self._close(at, by=by, outcome=outcome)

    @transition(field=state, source=CallBackState.PENDING, target=CallBackState.CANCELLED)
    def cancel(self, *, by: StaffProfile | None, reason: str, at) -> None:
        self._close(at, by=by, outcome=reason)

    @transition(field=state, source=CallBackState.PENDING, target=CallBackState.REPLACED)
    def replace(self, *, at) -> None:
        self._close(at, by=None, outcome="")

    def _close(self, at, *, by: StaffProfile | None, outcome: str) -> None:
        self.closed_at, self.completed_by, self.outcome = at, by, outcome.strip()
        self._settle()


class Feedback(models.Model):
    """The client's rating and letter on a resolution; one per resolution of a case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="feedback")
    resolved_at = models.DateTimeField(help_text="The resolution this feedback is about.")
    owner = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, related_name="+", help_text="Who resolved it."
    )
    contact = models.ForeignKey(
        ClientContact, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rating = models.PositiveSmallIntegerField()
    letter = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "resolved_at"], name="one_feedback_per_resolution"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 on {self.case.reference}"
