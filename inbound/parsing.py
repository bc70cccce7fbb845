"""An email's bytes as what casedesk keeps of it: who sent it, what it answers, whether a
machine sent it, and its new text as plain text (never HTML: nothing from an email is
ever rendered as markup).

Pure functions of the bytes: nothing here touches the database or the clock.
"""

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

import nh3
from django.conf import settings

MESSAGE_ID_LENGTH = 255  # InboundMessage.message_id
SUBJECT_LENGTH = 300
NAME_LENGTH = 200
EMAIL_LENGTH = 254
_IDS = re.compile(r"<[^<>\s]{1,998}>")
_AUTOMATIC_SENDERS = {"mailer-daemon", "postmaster"}
_BULK = {"bulk", "junk", "list"}
# Where a reply's quoted history starts: "On Mon, 1 Dec 2026, Sam wrote:" (one line, or
# wrapped onto a second), Outlook's separator, or a forwarded message's.
_QUOTE_HEADER = re.compile(
    r"^\s*(On\s.*\swrote:|-{2,}\s*(Original Message|Forwarded message)\s*-{2,})\s*$", re.I
)
_BLOCK_ENDS = re.compile(r"<\s*/?\s*(br|p|div|tr|li|h[1-6]|blockquote|table)\b[^>]*>", re.I)


# What stands for an email's missing parts where a case needs them.
NO_TEXT = "(The email had no text.)"
NO_SUBJECT = "(no subject)"


@dataclass(frozen=True)
class Attachment:
    """An attached file, kept in memory until attachments have a home (inbound.receive has
    the one place where they would be stored)."""

    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    sender_email: str
    sender_name: str
    subject: str
    sent_at: datetime | None
    text: str  # the new text
    quoted: str  # the quoted history folded out of it
    references: list[str]  # In-Reply-To, then References
    recipients: list[str]  # To, Cc, Delivered-To, X-Original-To
    automatic: str  # why it was sent by a machine; "" for a person
    attachments: list[Attachment] = field(default_factory=list)


def parse_email(raw: bytes) -> ParsedEmail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    sender_name, sender_email = _sender(message)
    text, quoted = fold_quotes(_body_text(message))
    return ParsedEmail(
        message_id=_message_id(message, raw),
        sender_email=sender_email,
        sender_name=sender_name,
        subject=_cut(" ".join(_header(message, "Subject").split()), SUBJECT_LENGTH),
        sent_at=_date(message),
        text=cut_text(text),
        quoted=cut_text(quoted),
        references=_IDS.findall(_header(message, "In-Reply-To"))
        + _IDS.findall(_header(message, "References")),
        recipients=[
            address.lower()
            for name in ("To", "Cc", "Delivered-To", "X-Original-To")
            for _, address in getaddresses(_headers(message, name))
            if address
        ],
        automatic=automatic_reason(message, sender_email),
        attachments=_attachments(message),
    )


def _header(message: EmailMessage, name: str) -> str:
    """A header's text, or "" (a malformed header is read as best it can be, never raises)."""
    try:
        value = message.get(name)
        return _no_nul(str(value)) if value is not None else ""
    except Exception:  # the email package's header classes raise on some broken input
        return ""


def _headers(message: EmailMessage, name: str) -> list[str]:
    try:
        return [_no_nul(str(value)) for value in message.get_all(name) or []]
    except Exception:
        return []


def _message_id(message: EmailMessage, raw: bytes) -> str:
    """Its own Message-ID; for one without (or with one too long to index), a stable id
    of what it has: the same bytes read twice get the same id."""
    found = _IDS.findall(_header(message, "Message-ID"))
    if found and len(found[0]) <= MESSAGE_ID_LENGTH:
        return found[0]
    basis = found[0].encode() if found else raw
    return f"<sha256.{hashlib.sha256(basis).hexdigest()}@casedesk>"


def _sender(message: EmailMessage) -> tuple[str, str]:
    addresses = [a for a in getaddresses(_headers(message, "From")) if a[1]]
    if not addresses:
        return "", ""
    name, address = addresses[0]
    return _cut(name.strip(), NAME_LENGTH), _cut(address.strip().lower(), EMAIL_LENGTH)


def _date(message: EmailMessage) -> datetime | None:
    try:
        sent_at = parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    return sent_at if sent_at is not None and sent_at.tzinfo is not None else None


def automatic_reason(message: EmailMessage, sender_email: str) -> str:
    """Why an email was sent by a machine (an auto-reply, a bounce, a list, a loop of our
    own), so that it is recorded and never answered; "" when a person sent it."""
    auto_submitted = _header(message, "Auto-Submitted").split(";")[0].strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if name in message:
            return f"{name} header"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in _BULK:
        return f"Precedence: {precedence}"
    if message.get_content_type() == "multipart/report":
        return "a delivery or read report (multipart/report)"
    if sender_email.split("@")[0] in _AUTOMATIC_SENDERS:
        return f"sent by {sender_email}"
    if "Return-Path" in message and _header(message, "Return-Path").strip() in ("<>", ""):
        return "an empty Return-Path (a bounce)"
    if not sender_email:
        return "no sender address"
    return ""


def _body_text(message: EmailMessage) -> str:
    """The plain-text body when there is one, else the HTML one with every tag stripped."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        part = None
    if part is None:
        return ""
    content = _part_text(part)
    if part.get_content_subtype() == "html":
        return html_to_text(content)
    return content


def _part_text(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):
        payload = part.get_payload(decode=True) or b""
        return _no_nul(payload.decode("utf-8", errors="replace"))
    text = content if isinstance(content, str) else content.decode("utf-8", errors="replace")
    return _no_nul(text)


def _no_nul(text: str) -> str:
    """Without NUL characters, which PostgreSQL cannot store in text (an encoded word's =00
    or a raw one in a body would make the email fail at every poll, forever)."""
    return text.replace("\x00", "")


def html_to_text(markup: str) -> str:
    """Text only: nh3 (an HTML sanitiser) keeps no tag at all and drops script and style
    with their content; line breaks are kept where blocks ended."""
    with_breaks = _BLOCK_ENDS.sub("\n", markup)
    cleaned = nh3.clean(with_breaks, tags=set(), attributes={}, strip_comments=True)
    lines = [" ".join(line.split()) for line in html.unescape(cleaned).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def fold_quotes(text: str) -> tuple[str, str]:
    """(new text, quoted history): "> " lines, and everything from an "On … wrote:" line
    on, are the history the sender's program quoted back."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    new, quoted = [], []
    for number, line in enumerate(lines):
        two_lines = f"{line} {lines[number + 1]}" if number + 1 < len(lines) else line
        if _QUOTE_HEADER.match(line) or (
            line.strip().startswith("On ") and _QUOTE_HEADER.match(two_lines)
        ):
            quoted += lines[number:]
            break
        (quoted if line.lstrip().startswith(">") else new).append(line)
    return "\n".join(new).strip(), "\n".join(quoted).strip()


def cut_text(text: str) -> str:
    limit = settings.CASEDESK_MAIL_MAX_TEXT
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n\n[Cut: the email went on for {len(text) - limit:,} more characters.]"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _attachments(message: EmailMessage) -> list[Attachment]:
    found = []
    try:
        for part in message.iter_attachments():
            found.append(
                Attachment(
                    name=_cut(_no_nul(part.get_filename() or "") or "attachment", 255),
                    content_type=part.get_content_type(),
                    data=part.get_payload(decode=True) or b"",
                )
            )
    except Exception:  # an attachment that cannot be read does not stop its email
        return found
    return found
