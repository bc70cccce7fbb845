import secrets

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.models import Department, StaffProfile
from casedesk import permissions
from casedesk.keyset import FAR_FUTURE, FAR_PAST
from casedesk.models.clients import Client


def new_status_nonce() -> str:
    return secrets.token_urlsafe(12)


class CaseState(models.TextChoices):
    OPEN = "open", "Open"
    DENIED = "denied", "Denied"
    ESCALATED = "escalated", "Escalated"
    CROSS_DEPARTMENT = "cross_department", "With another department"
    RESOLVED = "resolved", "Resolved"


# While a case is in one of these states somebody must hold it, against a deadline.
ACTIVE_STATES = (CaseState.OPEN, CaseState.ESCALATED, CaseState.CROSS_DEPARTMENT)


class DeadlineKind(models.TextChoices):
    FIRST_RESPONSE = "first_response", "first response"
    NEXT_UPDATE = "next_update", "next update"
    RESOLUTION = "resolution", "resolution"
    ESCALATION = "escalation", "escalated decision"
    CLIENT_REPLY = "client_reply", "client's reply"
    CALLBACK = "callback", "call-back"


class Risk(models.TextChoices):
    LEGAL = "legal", "Legal threat"
    REGULATOR = "regulator", "Regulator"
    PRESS = "press", "Press"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


def condition(message: str):
    """Mark a transition condition with the sentence shown when it is not met."""

    def decorate(check):
        check.message = message
        return check

    return decorate


@condition("A denial needs a rationale the client will read.")
def has_denial_rationale(case: "Case") -> bool:
    return bool(case.denial_rationale.strip())


@condition("An escalation needs a reason.")
def has_escalation_reason(case: "Case") -> bool:
    return bool(case.escalation_reason.strip())


@condition("The case still waits on another department.")
def has_no_open_handoffs(case: "Case") -> bool:
    from casedesk.models.handoffs import HandOffState

    return not case.handoffs.filter(state=HandOffState.OPEN).exists()


# The queue's sorts (selectors.QUEUE_ORDERS) as index keys, by the names' part they give.
SORT_KEYS = {
    "due": Coalesce("due_at", Value(FAR_FUTURE)),
    "late": Coalesce("due_at", Value(FAR_PAST)),
    "new": F("created_at"),
    "upd": F("updated_at"),
}


def sort_indexes(
    prefix: str, *leading: str, last: str = "id", condition: models.Q | None = None
) -> list[models.Index]:
    """An index per queue sort: the `leading` columns, the sort's key, then `last` (the
    case's pk, or the column holding it on a table of copies such as CaseReach)."""
    first = [F(column) for column in leading]
    return [
        models.Index(*first, key, F(last), condition=condition, name=f"{prefix}{short}_idx")
        for short, key in SORT_KEYS.items()
    ]


def queue_indexes(short: str, *leading: str) -> list[models.Index]:
    """The queue's sorts after the `leading` columns, the pk last."""
    return sort_indexes(f"case_{short}", *leading)


def rare_view_indexes(short: str, leading: str) -> list[models.Index]:
    """The due order after `leading`, partial on the cases at the top of a chain and on the
    late ones: the queue's "Top of the chain" and "Overdue" views, per visibility branch."""
    due = (F(leading), Coalesce("due_at", Value(FAR_FUTURE)), F("id"))
    return [
        models.Index(*due, condition=models.Q(at_top_of_chain=True), name=f"case_{short}top_idx"),
        models.Index(
            *due, condition=models.Q(late_since__isnull=False), name=f"case_{short}latesince_idx"
        ),
    ]


class Case(ConcurrentTransitionMixin, models.Model):
    """One client request, always held by a person against a stored, indexed deadline.

    Transitions only change fields; casedesk.services runs them, with the row locked, the
    version checked and the timeline event written in the same transaction.
    """

    # NULL only between the INSERT and the UPDATE that stamps CD-<id>: several NULLs may
    # coexist under the unique constraint, where several blanks could not.
    reference = models.CharField(max_length=16, unique=True, null=True, editable=False)  # noqa: DJ001
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="cases")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="cases")
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    owner = models.ForeignKey(StaffProfile, on_delete=models.PROTECT, related_name="owned_cases")
    state = FSMField(
        max_length=20, choices=CaseState.choices, default=CaseState.OPEN, protected=True
    )
    due_at = models.DateTimeField(null=True, blank=True, help_text="The holder's next deadline.")
    due_kind = models.CharField(max_length=20, choices=DeadlineKind.choices, blank=True)
    warn_at = models.DateTimeField(
        null=True, blank=True, help_text="When to warn the holder; cleared once warned."
    )
    first_response_at = models.DateTimeField(null=True, blank=True)
    waiting_on_client_since = models.DateTimeField(null=True, blank=True)
    paused_remaining = models.DurationField(
        null=True, blank=True, help_text="Working time left on the deadline the pause stopped."
    )
    paused_kind = models.CharField(max_length=20, choices=DeadlineKind.choices, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    returns_to = models.ForeignKey(
        StaffProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who works the case again when it is returned with guidance.",
    )
    at_top_of_chain = models.BooleanField(
        default=False, help_text="Escalated with nobody above the owner: needs the top's eyes."
    )
    late_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The deadline the holder missed at the top of the chain, shown until a "
        "person acts: re-arming there never hides the breach or moves the promise.",
    )
    risk = models.CharField(max_length=10, choices=Risk.choices, blank=True)
    risk_reason = models.TextField(blank=True)
    denial_rationale = models.TextField(blank=True)
    escalation_reason = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=0, editable=False)
    status_nonce = models.CharField(
        max_length=32,
        default=new_status_nonce,
        editable=False,
        help_text="Part of the client's status link; a new one revokes the old link.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="case_state_due_idx"),
            models.Index(fields=["state", "warn_at"], name="case_state_warn_idx"),
            # The dashboard's figures are recomputed over the last 30 days of cases, and
            # its lists show the newest first: a range of the newest, not the whole table.
            models.Index(fields=["created_at"], name="case_created_idx"),
            # The queue (casedesk.selectors.QUEUE_ORDERS): per visibility branch and sort,
            # its column then the sort's keys then the pk, so each branch of a page is one
            # index range whatever the number of cases. Scanned backwards for descending.
            *queue_indexes("dept_", "department"),
            *queue_indexes("owner_", "owner"),
            # …and for the state and priority filters, in the default order only (due
            # soonest: the first); selectors.pinned_filter makes the planner take them.
            queue_indexes("dept_state_", "department", "state")[0],
            queue_indexes("owner_state_", "owner", "state")[0],
            queue_indexes("dept_prio_", "department", "priority")[0],
            queue_indexes("owner_prio_", "owner", "priority")[0],
            # The queue's rare views: what waits at the top of a chain, and breaches there.
            models.Index(
                F("id"), condition=models.Q(at_top_of_chain=True), name="case_top_of_chain_idx"
            ),
            models.Index(
                F("id"), condition=models.Q(late_since__isnull=False), name="case_late_since_idx"
            ),
            # …and each per branch column in the due order, holding only those few cases, so
            # that "Top of the chain" and "Overdue" read a range too rather than intersect
            # them with every active case and sort.
            *rare_view_indexes("dept_", "department"),
            *rare_view_indexes("owner_", "owner"),
            # The client's list: open first, then most recently closed (CLIENT_CASES_ORDER).
            models.Index(
                F("client"),
                Coalesce("closed_at", Value(FAR_FUTURE)),
                F("updated_at"),
                F("id"),
                name="case_client_list_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state__in=ACTIVE_STATES) | models.Q(due_at__isnull=False),
                name="active_case_has_deadline",
            ),
            models.CheckConstraint(
                condition=~models.Q(state=CaseState.DENIED) | ~models.Q(denial_rationale=""),
                name="denied_case_has_rationale",
            ),
            # Closing clears both marks (_close): held as a rule, so the queue's "Overdue"
            # and "Top of the chain" ask the mark alone, which their partial indexes answer,
            # where adding "and active" made the planner intersect every active case.
            models.CheckConstraint(
                condition=models.Q(state__in=ACTIVE_STATES) | models.Q(late_since__isnull=True),
                name="late_case_is_active",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=ACTIVE_STATES) | models.Q(at_top_of_chain=False),
                name="case_at_top_is_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @staticmethod
    def format_reference(number: int) -> str:
        return f"CD-{number:06d}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def _close(self, at) -> None:
        self.due_at = self.warn_at = None
        self.due_kind = ""
        self.closed_at = at
        self.at_top_of_chain = False
        self.late_since = None
        self.returns_to = None

    # --- The state machine (design.md); bodies change fields and nothing else ----------

    @transition(
        field=state,
        source=[CaseState.OPEN, CaseState.ESCALATED],
        target=CaseState.RESOLVED,
        permission=permissions.is_owner_or_above,
    )
    def resolve(self, *, at):
        self._close(at)

    @transition(
        field=state,
        source=[CaseState.OPEN, CaseState.ESCALATED],
        target=CaseState.DENIED,
        conditions=[has_denial_rationale],
        permission=permissions.is_owner_or_above,
    )
    def deny(self, *, at):
        self._close(at)

    @transition(
        field=state,
        source=[
            CaseState.OPEN,
            CaseState.DENIED,
            CaseState.CROSS_DEPARTMENT,
            CaseState.ESCALATED,
        ],
        target=CaseState.ESCALATED,
        conditions=[has_escalation_reason],
        permission=permissions.may_escalate,
    )
    def escalate(self, *, to: StaffProfile | None, due_at):
        """Hand the case to `to`, the next person up; None means nobody is above."""
        if self.returns_to_id is None:
            self.returns_to = self.owner
        if to is None:
            self.at_top_of_chain = True
        else:
            self.owner = to
            self.escalation_level += 1
        self.due_at = due_at
        self.closed_at = None

    @transition(
        field=state,
        source=[CaseState.OPEN, CaseState.ESCALATED],
        target=CaseState.CROSS_DEPARTMENT,
        permission=permissions.is_owner_or_above,
    )
    def request_handoff(self):
        pass

    @transition(
        field=state,
        source=CaseState.CROSS_DEPARTMENT,
        target=CaseState.OPEN,
        conditions=[has_no_open_handoffs],
        permission=permissions.acts_for_receiving_department,
    )
    def complete_handoff(self, *, due_at):
        self.due_at = due_at

    @transition(
        field=state,
        source=CaseState.ESCALATED,
        target=CaseState.OPEN,
        permission=permissions.is_owner_or_above,
    )
    def return_with_guidance(self, *, due_at):
        if self.returns_to is not None:
            self.owner = self.returns_to
        self.returns_to = None
        self.escalation_level = 0
        self.at_top_of_chain = False
        self.due_at = due_at

    @transition(
        field=state,
        source=[CaseState.RESOLVED, CaseState.DENIED],
        target=CaseState.OPEN,
        permission=permissions.may_reopen,
    )
    def reopen(self, *, due_at):
        self.due_at = due_at
        self.closed_at = None
