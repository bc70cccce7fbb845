from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from accounts.models import AuthorityLevel, Department, StaffProfile
from casedesk.models import CallBack, Case, DeadlineKind, HandOff
from casedesk.models.held import HeldItem


class Escalation(models.Model):
    """One passed deadline, escalated: the database's guarantee of "exactly once".

    Unique per (case, deadline), per (hand-off, deadline) and per (call-back, deadline):
    however many sweeps run at once and however often a task is redelivered, a second
    escalation of the same missed deadline cannot be written.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="escalations")
    handoff = models.ForeignKey(
        HandOff, on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
    )
    exception_request = models.ForeignKey(
        "escalation.ExceptionRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations",
    )
    callback = models.ForeignKey(
        CallBack, on_delete=models.PROTECT, null=True, blank=True, related_name="escalations"
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
    repeat = models.BooleanField(
        default=False,
        help_text="A deadline re-armed at the top of a chain passing again: not a new miss.",
    )

    class Meta:
        ordering = ["-escalated_at"]
        # The dashboard's figures are recomputed from the last 30 days of breaches.
        indexes = [models.Index(fields=["escalated_at"], name="escalation_escalated_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "deadline_due_at"],
                condition=models.Q(
                    handoff__isnull=True, exception_request__isnull=True, callback__isnull=True
                ),
                name="case_deadline_escalated_once",
            ),
            models.UniqueConstraint(
                fields=["exception_request", "deadline_due_at"],
                condition=models.Q(exception_request__isnull=False),
                name="exception_deadline_escalated_once",
            ),
            models.UniqueConstraint(
                fields=["handoff", "deadline_due_at"],
                condition=models.Q(handoff__isnull=False),
                name="handoff_deadline_escalated_once",
            ),
            models.UniqueConstraint(
                fields=["callback", "deadline_due_at"],
                condition=models.Q(callback__isnull=False),
                name="callback_deadline_escalated_once",
            ),
        ]

    def __str__(self) -> str:
        item = f"hand-off {self.handoff_id}" if self.handoff_id else f"case {self.case_id}"
        return f"{item} level {self.level} at {self.escalated_at:%Y-%m-%d %H:%M}"


class ExceptionKind(models.Model):
    """A kind of request outside policy (refund, fee waiver, extra vouchers…): admin-defined."""

    name = models.CharField(max_length=80, unique=True)
    has_amount = models.BooleanField(default=True)
    policy = models.TextField(
        blank=True, help_text="The policy's rationale, quoted to clients when a request is denied."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AuthorityRule(models.Model):
    """From this authority level up, people may approve this kind up to this amount."""

    kind = models.ForeignKey(ExceptionKind, on_delete=models.CASCADE, related_name="rules")
    min_authority_level = models.PositiveSmallIntegerField(choices=AuthorityLevel.choices)
    max_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Empty: any amount."
    )

    class Meta:
        ordering = ["kind__name", "min_authority_level"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "min_authority_level"], name="one_rule_per_kind_and_level"
            )
        ]

    def __str__(self) -> str:
        limit = f"up to {self.max_amount}" if self.max_amount is not None else "any amount"
        return f"{self.kind}: {self.get_min_authority_level_display()} and above, {limit}"


class ExceptionState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    WITHDRAWN = "withdrawn", "Withdrawn (the case closed)"


class ExceptionRequest(HeldItem):
    """A request outside policy, routed straight to the lowest person who may decide it.
    Transitions only change fields; escalation.exceptions runs them, asking
    escalation.authority.may_decide (it needs the authority rules) first."""

    HOLDER = "approver"

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="exception_requests")
    kind = models.ForeignKey(ExceptionKind, on_delete=models.PROTECT, related_name="requests")
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    justification = models.TextField()
    requested_by = models.ForeignKey(StaffProfile, on_delete=models.PROTECT, related_name="+")
    approver = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, related_name="pending_decisions"
    )
    skipped = models.ManyToManyField(
        StaffProfile, blank=True, related_name="+", help_text="Levels below the approver."
    )
    beyond_authority = models.BooleanField(
        default=False, help_text="Nobody's authority covers it: the top of the chain decides."
    )
    state = FSMField(
        max_length=10,
        choices=ExceptionState.choices,
        default=ExceptionState.PENDING,
        protected=True,
    )
    decided_by = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rationale = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="exception_state_due_idx"),
            models.Index(fields=["state", "warn_at"], name="exception_state_warn_idx"),
            models.Index(fields=["kind", "state", "decided_at"], name="exception_precedent_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="pending") | models.Q(due_at__isnull=False),
                name="pending_exception_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        amount = f" {self.amount}" if self.amount is not None else ""
        return f"{self.kind}{amount} on {self.case.reference}"

    # --- The state machine; bodies change fields and nothing else ----------------------

    @transition(field=state, source=ExceptionState.PENDING, target=ExceptionState.PENDING)
    def climb(self, *, to: StaffProfile | None, due_at, warn_at) -> None:
        self._climb(to=to, due_at=due_at, warn_at=warn_at)

    @transition(field=state, source=ExceptionState.PENDING, target=ExceptionState.APPROVED)
    def approve(self, *, by: StaffProfile, rationale: str, at) -> None:
        self._decide(by, rationale, at)

    @transition(field=state, source=ExceptionState.PENDING, target=ExceptionState.DENIED)
    def deny(self, *, by: StaffProfile, rationale: str, at) -> None:
        self._decide(by, rationale, at)

    @transition(field=state, source=ExceptionState.PENDING, target=ExceptionState.WITHDRAWN)
    def withdraw(self, *, why: str, at) -> None:
        """The case closed: no decision is needed any more."""
        self._decide(None, f"Withdrawn: {why}.", at)

    def _decide(self, by: StaffProfile | None, rationale: str, at) -> None:
        self.decided_by, self.rationale, self.decided_at = by, rationale.strip(), at
        self._settle()


class TopDigest(models.Model):
    """One daily digest sent to a person at the top of chains: the database's guarantee
    of "at most one a day", however many sweeps run."""

    person = models.ForeignKey(StaffProfile, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(help_text="The day in the person's department's time zone.")
    items = models.PositiveIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["person", "day"], name="one_top_digest_a_day")
        ]

    def __str__(self) -> str:
        return f"digest for {self.person} on {self.day}"


class FigureDay(models.Model):
    """One calendar day (the site's time zone) of the dashboard's figures for one person's
    cases in one department: a row the dashboard sums instead of counting cases.

    Derived, never edited: escalation.figures recomputes the recent days from the raw
    tables (cases, escalations, exception requests), so a row can always be rebuilt.
    Attribution is the dashboard's: a case counts on the day it was opened, for its owner
    and department; a breach for whoever missed it, on the day it was escalated.
    """

    day = models.DateField()
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(StaffProfile, on_delete=models.CASCADE, related_name="+")
    opened = models.PositiveIntegerField(default=0, help_text="Cases opened that day.")
    opened_late = models.PositiveIntegerField(
        default=0, help_text="Of the cases opened that day, those that missed a deadline since."
    )
    resolved = models.PositiveIntegerField(default=0, help_text="Cases resolved that day.")
    breaches = models.PositiveIntegerField(
        default=0, help_text="Deadlines missed that day (first misses, not repeats at the top)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "department", "person"], name="figure_day_once_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.person_id}@{self.department_id}"


class DurationKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", "From opening to the first response"
    DECISION = "decision", "From an exception request to its decision"


class FigureDuration(models.Model):
    """One stored duration behind a dashboard median: a case's first response (on the day
    it was opened) or an exception request's decision (on the day it was decided)."""

    kind = models.CharField(max_length=20, choices=DurationKind.choices)
    day = models.DateField()
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(StaffProfile, on_delete=models.CASCADE, related_name="+")
    seconds = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["day", "kind"], name="figure_duration_day_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.day} {self.seconds:.0f}s"


class FigureRefresh(models.Model):
    """The one row that says when the figures were last recomputed, and the lock a refresh
    takes: two refreshes at once (a duplicate beat, a retried task) never both write."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    first_day = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"figures as of {self.refreshed_at}"
