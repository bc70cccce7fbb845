from django.conf import settings
from django.db import models

from accounts.models import Department


class Client(models.Model):
    """An organisation served by exactly one department."""

    name = models.CharField(max_length=200)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="clients")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    notes = models.TextField(blank=True, help_text="Details the serving department keeps.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="client_name_per_department"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ClientContact(models.Model):
    """One of a client's people; sees only their own client's cases."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="client_contact",
    )

    class Meta:
        ordering = ["client__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "email"], name="contact_email_per_client")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.client})"
