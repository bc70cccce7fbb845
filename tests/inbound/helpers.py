"""Emails as mail programs write them, for the inbound tests."""

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from inbound.models import Mailbox, Security

_sequence = iter(range(1, 10**9))


def support_mailbox(org, **fields) -> Mailbox:
    return Mailbox.objects.create(
        department=org.support,
        address="support@casedesk.example",
        host="127.0.0.1",
        port=143,
        security=Security.NONE,
        username="support",
        password="secret",
        **fields,
    )


def email(
    *,
    sender="Sam Rivera <sam@harbor.example>",
    to="support@casedesk.example",
    subject="Card declined",
    text="My card was declined at the pharmacy.",
    html=None,
    headers=None,
    message_id=None,
    attachments=(),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 11, 23, 9, 55, tzinfo=UTC))
    message["Message-ID"] = message_id or make_msgid(f"t{next(_sequence)}", "mail.example")
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return bytes(message)
