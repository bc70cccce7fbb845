from django.db import models
from django.utils import timezone


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """The outbox: written in the transaction of the change it reports, delivered later.

    If the broker or worker is down nothing is lost: the row waits, and beat's delivery task
    (casedesk.tasks.deliver_due_notifications) sends whatever is due.
    """

    case = models.ForeignKey(
        "casedesk.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient_email = models.EmailField()
    recipient_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    calendar = models.TextField(blank=True, help_text="An iCalendar invite to attach, if any.")
    links_to_case = models.BooleanField(
        default=True, help_text="Staff get a link to the case page; clients do not."
    )
    ephemeral = models.BooleanField(
        default=False, help_text="Carries a secret (a sign-in link): the body is wiped once sent."
    )
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    trying_since = models.DateTimeField(
        default=timezone.now,
        help_text="Retries stop this long ago plus CASEDESK_OUTBOX_GIVE_UP_HOURS; "
        "queued, or sent again, then.",
    )
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    failure_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="failure_notices",
        help_text="Tells the case's holder that this other email could not be sent.",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient_email} ({self.status})"
