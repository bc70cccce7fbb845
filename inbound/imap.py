"""Reading the mailboxes over IMAP (imap-tools), a bounded batch at a time.

Each message is recorded first (inbound.receive: committed), and only then moved to the
mailbox's processed folder: a poller that dies between the two leaves the message where
it was, and the next poll finds it recorded and moves it on (receive_message does nothing
the second time). An error on one message is logged on the mailbox and the batch goes
on (the message stays, and is tried again next poll); a connection that fails is logged
on the mailbox and tried again at the next poll.
"""

import imaplib
import logging
import socket
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError

from inbound.models import Mailbox, Security
from inbound.receive import receive_message

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
CONNECTION_ERRORS = (
    OSError,  # refused, reset, timed out, TLS errors (ssl.SSLError is an OSError)
    EOFError,
    imaplib.IMAP4.error,
    ImapToolsError,  # a command refused: login, select, create, move...
    socket.timeout,
)


@dataclass
class Poll:
    mailbox: str
    received: int = 0  # recorded now
    again: int = 0  # recorded before (a message whose move was lost): moved on
    failed: list[str] = field(default_factory=list)
    error: str = ""  # the connection's, when the poll could not finish

    def __str__(self) -> str:
        said = f"{self.mailbox}: {self.received} received, {self.again} seen before"
        if self.failed:
            said += f", {len(self.failed)} failed"
        return said + (f"; stopped: {self.error}" if self.error else "")


def poll_mailboxes() -> list[Poll]:
    return [poll_mailbox(mailbox) for mailbox in Mailbox.objects.filter(active=True)]


def poll_mailbox(mailbox: Mailbox, *, batch: int | None = None) -> Poll:
    poll = Poll(mailbox=mailbox.address)
    batch = batch or settings.CASEDESK_MAIL_POLL_BATCH
    try:
        with _connect(mailbox) as box:
            if not box.folder.exists(mailbox.processed_folder):
                box.folder.create(mailbox.processed_folder)
            box.folder.set(mailbox.folder)
            for uid in box.uids()[:batch]:  # the oldest first
                _take(box, mailbox, uid, poll)
    except CONNECTION_ERRORS as error:
        poll.error = f"{error.__class__.__name__}: {error}"
        log.warning("mailbox %s: %s", mailbox.address, poll.error)
    now = timezone.now()
    error = poll.error or (poll.failed[-1] if poll.failed else "")
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_polled_at=now,
        last_error=error[:2000] if error else "",
        **({"last_error_at": now} if error else {}),
    )
    return poll


def _take(box: BaseMailBox, mailbox: Mailbox, uid: str, poll: Poll) -> None:
    raw = _fetch(box, uid)
    if raw is None:  # gone meanwhile (another poller moved it)
        return
    try:
        receipt = receive_message(mailbox, raw, now=timezone.now())
    except Exception as error:  # one message's failure never stops the batch
        log.exception("mailbox %s: message %s could not be received", mailbox.address, uid)
        poll.failed.append(f"message {uid}: {error.__class__.__name__}: {error}")
        return
    if receipt.new:
        poll.received += 1
    else:
        poll.again += 1
    _pause_for_drills()
    box.move(uid, mailbox.processed_folder)  # acknowledged only now that it is recorded


def _fetch(box: BaseMailBox, uid: str) -> bytes | None:
    """The message's bytes exactly as stored (without marking it read)."""
    status, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        raise imaplib.IMAP4.error(f"FETCH {uid}: {status} {data!r}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    return None


def _connect(mailbox: Mailbox) -> BaseMailBox:
    if mailbox.security == Security.TLS:
        box = MailBox(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
    elif mailbox.security == Security.STARTTLS:
        box = MailBoxStartTls(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
    elif mailbox.host in LOOPBACK:
        box = MailBoxUnencrypted(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
    else:
        raise OSError(f"plaintext IMAP to {mailbox.host} refused: only to this machine")
    if mailbox.oauth2_token:
        return box.xoauth2(mailbox.username, mailbox.oauth2_token, initial_folder=None)
    return box.login(mailbox.username, mailbox.password, initial_folder=None)


def _pause_for_drills() -> None:
    """The fault drills' hook (CASEDESK_MAIL_POLL_PAUSE_MS, 0 unless set): a pause between
    recording a message and moving it, the window a killed poller must survive."""
    if settings.CASEDESK_MAIL_POLL_PAUSE_MS:
        time.sleep(settings.CASEDESK_MAIL_POLL_PAUSE_MS / 1000)
