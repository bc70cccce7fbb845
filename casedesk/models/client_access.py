import hashlib

from django.db import models
from django.utils import timezone

from casedesk.models.clients import ClientContact


def hash_token(token: str) -> str:
    """Only a digest is stored: a database reader cannot sign in with it."""
    return hashlib.sha256(token.encode()).hexdigest()


class ClientSignInLink(models.Model):
    """A one-time sign-in link emailed to a client contact: expires, and works once."""

    contact = models.ForeignKey(
        ClientContact, on_delete=models.CASCADE, related_name="sign_in_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"sign-in link for {self.contact} (expires {self.expires_at:%Y-%m-%d %H:%M})"
