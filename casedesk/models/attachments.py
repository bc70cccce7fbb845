from django.conf import settings
from django.db import models
from django.utils import timezone

from casedesk.actors import ActorKind
from casedesk.models.cases import Case
from casedesk.models.clients import ClientContact
from casedesk.models.events import CaseEvent


class Attachment(models.Model):
    """A file that came with a timeline event (a note, a message, a hand-off answer).

    The bytes live in the "attachments" storage (settings.STORAGES) under a random name,
    never the uploader's; the name the uploader gave is kept, cleaned, to download it by.
    Removing it from view keeps this row and the timeline's record that it existed; only
    the bytes go. Written only by casedesk.attachments.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(CaseEvent, on_delete=models.PROTECT, related_name="attachments")
    stored_name = models.CharField(
        max_length=200, unique=True, help_text="Its name in the attachments storage (random)."
    )
    original_name = models.CharField(max_length=150)
    content_type = models.CharField(max_length=100, help_text="Found by its content.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    uploaded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_by_contact = models.ForeignKey(
        ClientContact, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "event"], name="attachment_case_event_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(removed_at__isnull=True) | ~models.Q(removal_reason=""),
                name="removed_attachment_has_reason",
            )
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def uploader_label(self) -> str:
        if self.uploaded_by_contact_id:
            return self.uploaded_by_contact.name
        if self.uploaded_by_kind == ActorKind.CLIENT:
            return "The client (status page)"
        return self.uploaded_by_user.display_name if self.uploaded_by_user_id else "casedesk"
