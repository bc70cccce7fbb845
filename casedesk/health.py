"""Reachability of what casedesk needs: the database and the broker."""

from django.db import connection
from kombu import Connection


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure means "down"; its text goes in the report
        return f"error: {error.__class__.__name__}"
    return "ok"


def broker_status(url: str, transport_options: dict | None = None) -> str:
    try:
        with Connection(url, transport_options=transport_options or {}, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as error:
        return f"error: {error.__class__.__name__}"
    return "ok"
