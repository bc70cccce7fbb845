from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import StaffProfile
from casedesk.actors import ActorKind
from casedesk.models.cases import Case, CaseState
from casedesk.models.clients import ClientContact


class AppendOnlyError(Exception):
    """The timeline is a record: nothing in it is ever changed or removed."""


class EventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    RESOLVED = "resolved", "Resolved"
    DENIED = "denied", "Denied"
    ESCALATED = "escalated", "Escalated"
    HANDOFF_REQUESTED = "handoff_requested", "Hand-off requested"
    HANDOFF_COMPLETED = "handoff_completed", "Hand-off completed"
    HANDOFF_DECLINED = "handoff_declined", "Hand-off declined"
    RETURNED = "returned", "Returned with guidance"
    REOPENED = "reopened", "Reopened"
    NOTE = "note", "Internal note"
    MESSAGE = "message", "Message to the client"
    REASSIGNED = "reassigned", "Reassigned"
    HANDOFF_ESCALATED = "handoff_escalated", "Hand-off escalated"
    HANDOFF_ASSIGNED = "handoff_assigned", "Hand-off assigned"
    HANDOFF_WITHDRAWN = "handoff_withdrawn", "Hand-off withdrawn"
    WARNED = "warned", "Deadline warning sent"
    NOTIFIED = "notified", "Notified"
    WAITING_ON_CLIENT = "waiting_on_client", "Waiting on the client"
    CLOCK_RESUMED = "clock_resumed", "Clock resumed"
    RISK_FLAGGED = "risk_flagged", "Risk flagged"
    MEETING_CONVENED = "meeting_convened", "Meeting convened"
    STATUS_LINK_REISSUED = "status_link_reissued", "Status link reissued"
    EXCEPTION_REQUESTED = "exception_requested", "Exception requested"
    EXCEPTION_APPROVED = "exception_approved", "Exception approved"
    EXCEPTION_DENIED = "exception_denied", "Exception denied"
    EXCEPTION_ESCALATED = "exception_escalated", "Exception request escalated"
    EXCEPTION_WITHDRAWN = "exception_withdrawn", "Exception request withdrawn"
    CALLBACK_REQUESTED = "callback_requested", "Call-back requested"
    CALLBACK_DONE = "callback_done", "Call-back made"
    CALLBACK_ESCALATED = "callback_escalated", "Call-back escalated"
    CALLBACK_CANCELLED = "callback_cancelled", "Call-back cancelled"
    FEEDBACK = "feedback", "Client feedback"
    ATTACHMENT_REMOVED = "attachment_removed", "Attachment removed from view"


class CaseEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Case events cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Case events cannot be deleted.")


class CaseEvent(models.Model):
    """One line of a case's append-only timeline.

    Written only by casedesk.services, in the transaction of the change it records. The
    database refuses updates too (a trigger, see migration 0002).
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_contact = models.ForeignKey(
        ClientContact, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_state = models.CharField(max_length=20, choices=CaseState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=CaseState.choices, blank=True)
    target = models.ForeignKey(
        StaffProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who the case or hand-off went to, when it changed hands.",
    )
    handoff = models.ForeignKey(
        "casedesk.HandOff", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    reason = models.TextField(blank=True)
    client_visible = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="event_case_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Case events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Case events cannot be deleted.")

    @property
    def actor_label(self) -> str:
        if self.actor_kind == ActorKind.SYSTEM:
            return "casedesk (automatic)"
        if self.actor_contact_id:
            return self.actor_contact.name
        if self.actor_kind == ActorKind.CLIENT:
            return "The client (status page)"
        return self.actor_user.display_name if self.actor_user_id else "unknown"
