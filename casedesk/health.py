"""Reachability of what casedesk needs (the database and the broker), and what it gave up on."""

import os

from django.apps import apps
from django.db import connection
from kombu import Connection

from casedesk.models import Notification, NotificationStatus


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure means "down"; its text goes in the report
        return f"error: {error.__class__.__name__}"
    return "ok"


# /healthz must answer a load balancer well within its own timeout, even when Redis accepts
# connections but never replies (a frozen process): every wait below is bounded by this.
BROKER_CHECK_SECONDS = 1


def broker_status(url: str, transport_options: dict) -> str:
    if url.startswith("filesystem://"):
        # The embedded broker is a directory that web, worker and beat share.
        folder = transport_options["data_folder_out"]
        return "ok" if os.access(folder, os.W_OK) else f"error: {folder} is not writable"
    try:
        bounded = {
            **transport_options,
            "socket_timeout": BROKER_CHECK_SECONDS,
            "socket_connect_timeout": BROKER_CHECK_SECONDS,
        }
        with Connection(
            url, transport_options=bounded, connect_timeout=BROKER_CHECK_SECONDS
        ) as conn:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_CHECK_SECONDS
            )
    except Exception as error:
        return f"error: {error.__class__.__name__}"
    return "ok"


def outbox_failed() -> int:
    """Emails the outbox stopped trying to send: each waits for an administrator's "Send
    again" in the admin."""
    return Notification.objects.filter(status=NotificationStatus.FAILED).count()


def mailboxes_failing() -> int | None:
    """Active mailboxes whose last poll failed (the reason is in the admin); None without
    the inbound app (looked up by name: casedesk does not import the layer above it)."""
    if not apps.is_installed("inbound"):
        return None
    mailboxes = apps.get_model("inbound", "Mailbox").objects
    return mailboxes.filter(active=True).exclude(last_error="").count()
