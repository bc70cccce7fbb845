"""One email read from a mailbox, turned into one action.

`receive_message` records the email by its Message-ID first, then, in the same
transaction, does what it asks: a reply joins its case, a known contact's new email opens
one, anything else waits for a person. A second delivery of the same Message-ID finds the
record and does nothing.

What threads a reply into a case is only what we wrote ourselves: the signed Reply-To
address of the email it answers (casedesk.reply_address), or the Message-ID of one of our
emails in its In-Reply-To or References. A case reference in a subject line opens nothing
(anyone can type one: Zammad #2444, #5064). And a reply is taken as the client's only when
its sender is one of the client's contacts (or staff who work the case): from anyone
else it is held for staff, with the reason.
"""

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from accounts.models import StaffProfile
from casedesk import permissions, services
from casedesk.actors import Actor
from casedesk.attachments import check_uploads, clean_name, cleaned_up_on_failure
from casedesk.errors import CaseError, TooManyRequests
from casedesk.models import Case, ClientContact, EventKind, Notification
from casedesk.notifications import message_id
from casedesk.reply_address import reply_target
from casedesk.routing import NoOneToHold
from inbound.models import InboundMessage, Mailbox, Outcome
from inbound.parsing import NO_SUBJECT, NO_TEXT, Attachment, ParsedEmail, parse_email

log = logging.getLogger(__name__)

_OUR_MESSAGE_ID = re.compile(r"^<notification\.(?P<pk>[0-9]{1,18})\.[0-9]+@[^>]+>$")


@dataclass(frozen=True)
class Receipt:
    message: InboundMessage
    new: bool  # False: this Message-ID was received before, and nothing was done now

    def __str__(self) -> str:
        if not self.new:
            return f"{self.message.message_id}: received before, nothing done"
        return f"{self.message.message_id}: {self.message.get_outcome_display()}"


@dataclass(frozen=True)
class Thread:
    case: Case
    by: str  # how we know: "reply address" or "In-Reply-To"


@cleaned_up_on_failure  # files it stores are deleted again if the action fails
def receive_message(mailbox: Mailbox, raw: bytes, *, now: datetime) -> Receipt:
    email = parse_email(raw)
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: the duplicate's error ends only it
                message = InboundMessage.objects.create(
                    mailbox=mailbox,
                    message_id=email.message_id,
                    sender_email=email.sender_email,
                    sender_name=email.sender_name,
                    subject=email.subject,
                    sent_at=email.sent_at,
                    received_at=now,
                    text=email.text,
                    quoted=email.quoted,
                    outcome=Outcome.UNASSIGNED,
                )
        except IntegrityError:
            earlier = InboundMessage.objects.get(message_id=email.message_id)
            log.info("%s was received before: nothing done", email.message_id)
            return Receipt(message=earlier, new=False)
        _act(message, email, now=now)
        _keep_attachments(message, email.attachments)
        message.save()
    return Receipt(message=message, new=True)


def _act(message: InboundMessage, email: ParsedEmail, *, now: datetime) -> None:
    if email.automatic:
        _settle(message, Outcome.IGNORED, f"Sent automatically: {email.automatic}.")
        return
    thread = _thread_of(email)
    if thread is not None:
        _reply(message, email, thread, now=now)
    else:
        _new(message, email, now=now)


def _thread_of(email: ParsedEmail) -> Thread | None:
    """The case a reply answers, known only from what we sent (never from its subject)."""
    for address in email.recipients:
        if (target := reply_target(address)) is not None:
            case = Case.objects.select_related("client").filter(pk=target.case_id).first()
            if case is not None:
                return Thread(case=case, by="reply address")
    for reference in email.references:
        match = _OUR_MESSAGE_ID.match(reference)
        if match is None:
            continue
        ours = Notification.objects.filter(pk=int(match["pk"])).select_related("case").first()
        # The whole id must be the one we sent (its time too): a guessed row number is not.
        if ours is not None and ours.case is not None and message_id(ours) == reference:
            return Thread(
                case=Case.objects.select_related("client").get(pk=ours.case_id), by="In-Reply-To"
            )
    return None


def _reply(message: InboundMessage, email: ParsedEmail, thread: Thread, *, now: datetime) -> None:
    case = thread.case
    message.case = case
    files, text = _files_and_text(email)
    contact = _contact_of(case.client_id, email.sender_email)
    try:
        if contact is not None:
            message.contact = contact
            case = services.case_client_message(
                case=case, actor=Actor.for_contact(contact), text=text, files=files, now=now
            )
            _settle(message, Outcome.THREADED, f"A reply from {contact.name}, by its {thread.by}.")
            message.led_to(case, EventKind.MESSAGE)
            return
        staff = _staff_on(case, email.sender_email)
        if staff is not None:
            case = services.case_add_note(
                case=case,
                actor=Actor.for_staff(staff),
                text=f"By email:\n\n{text}",
                files=files,
                now=now,
            )
            _settle(message, Outcome.THREADED, f"A note from {staff.name}, by its {thread.by}.")
            message.led_to(case, EventKind.NOTE)
            return
    except CaseError as refused:
        _settle(message, Outcome.HELD, f"{case.reference} refused it: {refused}")
        return
    _settle(
        message,
        Outcome.HELD,
        f"Sent from {email.sender_email}, not a contact of {case.client.name}.",
    )


def _new(message: InboundMessage, email: ParsedEmail, *, now: datetime) -> None:
    """A new request: from a known contact it opens a case for their client (in their
    client's department, whichever mailbox it came to: a client has one department, which
    holds its cases); from anyone else it waits in the mailbox's department's list."""
    contacts = list(
        ClientContact.objects.select_related("client").filter(email__iexact=email.sender_email)
    )
    if not contacts:
        _settle(message, Outcome.UNASSIGNED, f"{email.sender_email} is not a contact of a client.")
        return
    if len(contacts) > 1:
        # Not which: some may be clients of other departments, whose names stay theirs.
        _settle(
            message,
            Outcome.UNASSIGNED,
            f"{email.sender_email} is a contact of more than one client: choose one.",
        )
        return
    files, text = _files_and_text(email)
    try:
        _open_case(message, contacts[0], email.subject, text, files=files, now=now)
    except (TooManyRequests, NoOneToHold) as refused:  # it waits for a person instead
        _settle(message, Outcome.UNASSIGNED, f"Not opened: {refused}")


def _open_case(
    message: InboundMessage,
    contact: ClientContact,
    subject: str,
    text: str,
    *,
    files: Sequence = (),
    now: datetime,
) -> None:
    case = services.case_request_open(
        contact=contact,
        subject=subject or NO_SUBJECT,
        description=text,
        files=files,
        via="email",
        now=now,
    )
    message.contact = contact
    message.led_to(case, EventKind.OPENED)
    _settle(message, Outcome.OPENED, f"A new request from {contact.name} of {contact.client}.")


def _contact_of(client_id: int, address: str) -> ClientContact | None:
    if not address:
        return None
    return ClientContact.objects.filter(client_id=client_id, email__iexact=address).first()


def _staff_on(case: Case, address: str) -> StaffProfile | None:
    """Staff who work the case, writing from their own address."""
    if not address:
        return None
    for staff in StaffProfile.objects.select_related("user").filter(
        user__email__iexact=address, user__is_active=True
    ):
        if permissions.may_write_on(case, Actor.for_staff(staff)):
            return staff
    return None


def _settle(message: InboundMessage, outcome: Outcome, reason: str) -> None:
    message.outcome, message.reason = outcome, reason


def _files_and_text(email: ParsedEmail) -> tuple[list, str]:
    """The email's files that pass the upload check (casedesk.attachments: by content, the
    size and count limits), and its text, with a line naming any it did not keep and why:
    the same rule as a file uploaded on a page, and the sender reads why on their case."""
    kept, refused = [], []
    for attachment in email.attachments:
        upload = SimpleUploadedFile(attachment.name, attachment.data, attachment.content_type)
        if len(kept) >= settings.CASEDESK_ATTACHMENT_MAX_FILES:
            refused.append(
                f"{clean_name(attachment.name)}: one message takes at most "
                f"{settings.CASEDESK_ATTACHMENT_MAX_FILES} files."
            )
            continue
        try:
            kept += check_uploads([upload])
        except ValidationError as error:
            refused += error.messages
    text = email.text or NO_TEXT
    if refused:
        text += "\n\nFiles not kept: " + " ".join(refused)
    return kept, text


def _keep_attachments(message: InboundMessage, attachments: list[Attachment]) -> None:
    """The names of every file the email carried, on its record; the files themselves go
    with the case's event when the email joins a case (_files_and_text), and are not kept
    for mail that waits for staff (the sender can send them again)."""
    message.attachment_names = [clean_name(attachment.name) for attachment in attachments]
