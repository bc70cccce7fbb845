"""Email in: the mailboxes casedesk reads, and every message it has read from them.

An InboundMessage is written once per Message-ID, in the same transaction as what the
message led to (a case opened, a client's message on its case, a hold for staff), so a
message delivered twice, or read again after a crash, is handled once.
"""

from django.db import models

from accounts.models import Department, StaffProfile
from casedesk.models import Case, CaseEvent, ClientContact


class Security(models.TextChoices):
    TLS = "tls", "TLS (IMAPS, usually port 993)"
    STARTTLS = "starttls", "STARTTLS (usually port 143)"
    NONE = "none", "None: plaintext, only for a server on this machine (tests)"


class Mailbox(models.Model):
    """A department's IMAP mailbox: what arrives in `folder` is read, then moved to
    `processed_folder` once it is recorded."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="mailboxes")
    address = models.EmailField(unique=True, help_text="The address clients write to.")
    host = models.CharField("IMAP host", max_length=255)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=10, choices=Security.choices, default=Security.TLS)
    username = models.CharField(max_length=255)
    password = models.CharField(max_length=255, blank=True)
    oauth2_token = models.TextField(
        "OAuth2 access token", blank=True, help_text="Used instead of the password (XOAUTH2)."
    )
    folder = models.CharField(max_length=255, default="INBOX")
    processed_folder = models.CharField(
        max_length=255, default="Processed", help_text="Created if it does not exist."
    )
    active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "mailboxes"
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address

    @property
    def local_part(self) -> str:
        return self.address.rsplit("@", 1)[0]

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]


class Outcome(models.TextChoices):
    THREADED = "threaded", "Added to its case"
    OPENED = "opened", "Opened a case"
    HELD = "held", "Held for staff"
    UNASSIGNED = "unassigned", "Unassigned"
    IGNORED = "ignored", "Ignored: sent automatically"
    ACCEPTED = "accepted", "Accepted into its case"
    REJECTED = "rejected", "Rejected"
    DISCARDED = "discarded", "Discarded"


# What still waits for a person.
WAITING = (Outcome.HELD, Outcome.UNASSIGNED)


class InboundMessage(models.Model):
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="messages")
    # Its own Message-ID, or `<sha256.<hex>@casedesk>` of its bytes when it has none.
    message_id = models.CharField(max_length=255, unique=True)
    sender_email = models.CharField(max_length=254)
    sender_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="Its Date header.")
    received_at = models.DateTimeField(help_text="When casedesk read it.")
    text = models.TextField(blank=True, help_text="The new text, as plain text.")
    quoted = models.TextField(blank=True, help_text="The quoted history, folded out.")
    attachment_names = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="inbound_messages"
    )
    event = models.ForeignKey(
        CaseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        ClientContact, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_by = models.ForeignKey(
        StaffProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # the department's lists: what waits, newest first (keyset pages)
            models.Index(fields=["outcome", "mailbox", "-id"], name="inbound_waiting"),
            models.Index(fields=["outcome", "case", "-id"], name="inbound_held"),
        ]

    def __str__(self) -> str:
        return f"{self.sender_email}: {self.subject}"

    @property
    def is_waiting(self) -> bool:
        return self.outcome in WAITING

    def led_to(self, case, kind: str) -> None:
        """The email joined `case` as the newest event of `kind` there: the one the action
        it went through has just written."""
        self.case = case
        self.event = case.events.filter(kind=kind).order_by("-pk").first()
