"""What staff do with mail that waits for them: each one action, in one transaction,
recorded on the message (who, when, why) with whatever it changed.

- unassigned mail (a sender we do not know): attach it to one of the department's clients
  (the sender becomes a contact, and the email opens a case as theirs), or discard it;
- held mail (a reply on a case from someone who is not the client's contact): accept it
  into the case as the client's message (the sender optionally added as a contact), or
  reject it.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from casedesk import search, services
from casedesk.actors import Actor
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import Client, ClientContact, EventKind
from inbound import permissions
from inbound.models import InboundMessage, Outcome
from inbound.parsing import NO_SUBJECT, NO_TEXT


@transaction.atomic
def inbound_attach(
    *, message: InboundMessage, actor: Actor, client: Client, now: datetime
) -> InboundMessage:
    message = _claim(message, Outcome.UNASSIGNED)
    if not permissions.may_handle_unassigned(message, actor):
        raise NotPermitted("Only the staff of the mailbox's department can attach this email.")
    if client.department_id != message.mailbox.department_id:
        raise InvalidTransition(f"{client} is not a client of {message.mailbox.department}.")
    contact = _contact_for(client, message)
    case = services.case_request_open(
        contact=contact,
        subject=message.subject or NO_SUBJECT,
        description=message.text,
        via="email",
        now=now,
        taken_in_by=actor,
    )
    message.contact = contact
    message.led_to(case, EventKind.OPENED)
    return _handled(
        message, actor, now, Outcome.OPENED, f"Attached to {client} by {actor}: {case.reference}."
    )


@transaction.atomic
def inbound_discard(
    *, message: InboundMessage, actor: Actor, reason: str, now: datetime
) -> InboundMessage:
    message = _claim(message, Outcome.UNASSIGNED)
    if not permissions.may_handle_unassigned(message, actor):
        raise NotPermitted("Only the staff of the mailbox's department can discard this email.")
    return _handled(message, actor, now, Outcome.DISCARDED, _reason(reason))


@transaction.atomic
def inbound_accept(
    *, message: InboundMessage, actor: Actor, add_contact: bool, now: datetime
) -> InboundMessage:
    message = _claim(message, Outcome.HELD)
    if not permissions.may_handle_held(message, actor):
        raise NotPermitted(f"You may not accept email into {message.case.reference}.")
    case = message.case
    text = message.text or NO_TEXT
    if add_contact:
        message.contact = _contact_for(case.client, message)
        writer = Actor.for_contact(message.contact)
        why = f"Accepted by {actor}, who added {message.sender_email} as a contact."
    else:
        writer = Actor.for_status_link(case.client_id)
        text = f"(By email from {message.sender_email}.)\n\n{text}"
        why = f"Accepted by {actor} as the client's."
    case = services.case_client_message(
        case=case, actor=writer, text=text, now=now, taken_in_by=actor
    )
    message.led_to(case, EventKind.MESSAGE)
    return _handled(message, actor, now, Outcome.ACCEPTED, why)


@transaction.atomic
def inbound_reject(
    *, message: InboundMessage, actor: Actor, reason: str, now: datetime
) -> InboundMessage:
    message = _claim(message, Outcome.HELD)
    if not permissions.may_handle_held(message, actor):
        raise NotPermitted(f"You may not reject email held on {message.case.reference}.")
    return _handled(message, actor, now, Outcome.REJECTED, _reason(reason))


def _claim(message: InboundMessage, waiting: Outcome) -> InboundMessage:
    """The message's row, locked; a conflict if someone handled it first."""
    locked = (
        InboundMessage.objects.select_for_update(of=("self",))
        .select_related("mailbox", "case__client")
        .get(pk=message.pk)
    )
    if locked.outcome != waiting:
        who = f" by {locked.handled_by.name}" if locked.handled_by_id else ""
        raise CaseConflict(
            f"This email was handled already{who}: {locked.get_outcome_display().lower()}."
        )
    return locked


def _contact_for(client: Client, message: InboundMessage) -> ClientContact:
    try:
        validate_email(message.sender_email)
    except ValidationError:
        raise InvalidTransition(
            f"“{message.sender_email}” is not an email address a contact can have."
        ) from None
    contact = ClientContact.objects.filter(
        client=client, email__iexact=message.sender_email
    ).first()
    if contact is None:
        contact = ClientContact.objects.create(
            client=client,
            name=message.sender_name or message.sender_email.split("@")[0],
            email=message.sender_email,
        )
        search.refresh_client_search([client.pk])  # contacts' names are searched in cases
    return contact


def _reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidTransition("Say why: the reason is kept with the email.")
    return reason.strip()


def _handled(
    message: InboundMessage, actor: Actor, now: datetime, outcome: Outcome, reason: str
) -> InboundMessage:
    message.outcome, message.reason = outcome, reason
    message.handled_by, message.handled_at = actor.staff, now
    message.save()
    return message
