"""The signed Reply-To address of a client email: it names the case and the contact it
was sent to, so a reply threads into that case, and nobody can write one for a case of
their choosing (a reference in a subject line names anything; this needs SECRET_KEY).

    <mailbox local part>+<case>.<contact>.<signature>@<mailbox domain>

Case and contact are base-36 ids, the signature an HMAC of both (django's salted_hmac
with SECRET_KEY), lower-case hex, since mail systems may change a local part's case.
"""

import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

SALT = "casedesk.reply_address"
SIGNATURE_LENGTH = 20  # hex digits: 80 bits
LOCAL_PART_LIMIT = 64  # RFC 5321
DEFAULT_LOCAL_PART = "reply"
_TOKEN = re.compile(
    r"^(?P<local>.+)\+(?P<case>[0-9a-z]{1,13})\.(?P<contact>[0-9a-z]{1,13})\.(?P<signature>[0-9a-f]+)$"
)


@dataclass(frozen=True)
class ReplyTarget:
    case_id: int
    contact_id: int


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def _signature(case_id: int, contact_id: int) -> str:
    return salted_hmac(SALT, f"{case_id}.{contact_id}").hexdigest()[:SIGNATURE_LENGTH]


def reply_address(*, case_id: int, contact_id: int, mailbox_address: str = "") -> str:
    """The address replies to this contact's email about this case go to; "" when there is
    nowhere to send them (no mailbox for the department and no CASEDESK_REPLY_DOMAIN), or
    the mailbox's local part is too long to carry the token."""
    if mailbox_address:
        local, domain = mailbox_address.rsplit("@", 1)
    elif settings.CASEDESK_REPLY_DOMAIN:
        local, domain = DEFAULT_LOCAL_PART, settings.CASEDESK_REPLY_DOMAIN
    else:
        return ""
    token = f"{_base36(case_id)}.{_base36(contact_id)}.{_signature(case_id, contact_id)}"
    tagged = f"{local}+{token}"
    return f"{tagged}@{domain}" if len(tagged) <= LOCAL_PART_LIMIT else ""


def reply_target(address: str) -> ReplyTarget | None:
    """The case and contact a reply address names, if its signature is ours; else None."""
    local = address.strip().strip("<>").rsplit("@", 1)[0].lower()
    match = _TOKEN.match(local)
    if match is None or len(match["signature"]) != SIGNATURE_LENGTH:
        return None
    case_id, contact_id = int(match["case"], 36), int(match["contact"], 36)
    if not hmac.compare_digest(match["signature"], _signature(case_id, contact_id)):
        return None
    return ReplyTarget(case_id=case_id, contact_id=contact_id)
