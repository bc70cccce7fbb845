"""Email that arrives without IMAP: files dropped in a folder (the demo's way in, and a
way to feed an email by hand), and an email provider's inbound webhook (django-anymail's
views, which send the `inbound` signal). Both hand the raw message to the same service as
the IMAP poller (inbound.receive), to the mailbox it was addressed to.
"""

import logging
from email.utils import getaddresses
from pathlib import Path

from anymail.signals import inbound
from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone

from inbound.models import Mailbox
from inbound.parsing import parse_email
from inbound.receive import Receipt, receive_message

log = logging.getLogger(__name__)


def mailbox_for(recipients: list[str]) -> Mailbox | None:
    """The mailbox an email was sent to: a recipient that is a mailbox's address, or its
    reply address (local+anything@domain, casedesk.reply_address)."""
    wanted = []
    for address in recipients:
        local, _, domain = address.strip().lower().rpartition("@")
        if local and domain:
            wanted.append(f"{local.split('+', 1)[0]}@{domain}")
    found = {box.address.lower(): box for box in Mailbox.objects.filter(address__in=wanted)}
    return next((found[address] for address in wanted if address in found), None)


# --- A folder ----------------------------------------------------------------------------


def read_drop_folder(folder: Path | None = None) -> list[str]:
    """Each `*.eml` file in the folder (CASEDESK_MAIL_DROP_DIR), oldest name first: received
    by the mailbox it is addressed to, then moved to `processed/` (or `failed/`, with a
    line in the log, when no mailbox has that address or it cannot be read). A file that
    is received twice is handled once (its Message-ID)."""
    folder = Path(folder or settings.CASEDESK_MAIL_DROP_DIR)
    if not str(folder) or not folder.is_dir():
        return []
    done = []
    for path in sorted(folder.glob("*.eml")):
        try:
            raw = path.read_bytes()
            mailbox = mailbox_for(parse_email(raw).recipients)
            if mailbox is None:
                log.warning("%s: addressed to no mailbox of ours", path.name)
                _move(path, folder / "failed")
                done.append(f"{path.name}: addressed to no mailbox")
                continue
            receipt = receive_message(mailbox, raw, now=timezone.now())
        except Exception as error:  # one bad file never stops the folder
            log.exception("%s could not be received", path.name)
            _move(path, folder / "failed")
            done.append(f"{path.name}: could not be received: {error.__class__.__name__}")
            continue
        _move(path, folder / "processed")
        done.append(f"{path.name}: {receipt}")
    return done


def _move(path: Path, to: Path) -> None:
    to.mkdir(exist_ok=True)
    path.replace(to / path.name)


# --- A provider's webhook (django-anymail) ---------------------------------------------


@receiver(inbound, dispatch_uid="casedesk-inbound-webhook")
def receive_from_webhook(sender, event, esp_name, **kwargs) -> Receipt | None:
    """An email posted by a provider's inbound webhook (anymail verified it: the webhook
    secret, or the provider's signature), to the mailbox of its recipients. An email to no
    mailbox of ours is logged and dropped: the provider is answered 200 either way, so it
    does not send it again and again."""
    message = event.message
    recipients = [address for _, address in getaddresses(message.get_all("To", []))]
    recipients += [address for _, address in getaddresses(message.get_all("Cc", []))]
    if message.envelope_recipient:
        recipients.insert(0, message.envelope_recipient)
    mailbox = mailbox_for(recipients)
    if mailbox is None:
        log.warning("%s inbound email to no mailbox of ours: %s", esp_name, recipients)
        return None
    return receive_message(mailbox, message.as_bytes(), now=timezone.now())
