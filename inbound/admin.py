from django import forms
from django.contrib import admin

from accounts.admin import ReadOnlyAdminMixin
from inbound.models import InboundMessage, Mailbox

SECRETS = ["password", "oauth2_token"]


class MailboxForm(forms.ModelForm):
    """The password and the OAuth2 token are written, never shown again: left empty, the
    one stored stays."""

    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored one.",
    )
    oauth2_token = forms.CharField(
        label="OAuth2 access token",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="XOAUTH2, used instead of the password. Leave empty to keep the stored one.",
    )
    forget_secrets = forms.BooleanField(
        required=False, help_text="Remove the stored password and token."
    )

    class Meta:
        model = Mailbox
        fields = [
            "department",
            "address",
            "host",
            "port",
            "security",
            "username",
            "password",
            "oauth2_token",
            "folder",
            "processed_folder",
            "active",
        ]

    def clean(self):
        data = super().clean()
        for name in SECRETS:
            if not data.get(name):
                data[name] = "" if data.get("forget_secrets") else getattr(self.instance, name)
        if data.get("security") == "none" and data.get("host") not in (
            "127.0.0.1",
            "localhost",
            "::1",
        ):
            self.add_error("security", "Plaintext IMAP only to a server on this machine.")
        return data


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ["address", "department", "host", "active", "last_polled_at", "last_error_at"]
    list_filter = ["active", "department"]
    readonly_fields = ["last_polled_at", "last_error", "last_error_at"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "sender_email", "subject", "outcome", "case", "mailbox"]
    list_filter = ["outcome", "mailbox"]
    search_fields = ["sender_email", "subject", "message_id"]
    list_select_related = ["case", "mailbox"]
