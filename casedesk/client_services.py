"""What client contacts start themselves: signing in by an emailed one-time link, and
feedback on a resolution. (Messages, appeals, reopening and call-backs on the status page
go through casedesk.services and casedesk.callbacks like everyone's.)
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from casedesk import permissions
from casedesk.actors import Actor
from casedesk.changes import lock_case, record, touch
from casedesk.errors import CaseConflict, InvalidTransition, NotPermitted
from casedesk.models import Case, CaseState, ClientContact, ClientSignInLink, EventKind, Feedback
from casedesk.models.client_access import hash_token
from casedesk.notifications import notify


@transaction.atomic
def sign_in_link_send(*, email: str, now: datetime | None = None) -> int:
    """Email a one-time sign-in link to each contact with this address; how many were sent.

    The caller tells the person the same thing either way, so nobody learns from the page
    whether an address belongs to a client.
    """
    contacts = ClientContact.objects.filter(email__iexact=email.strip()).select_related("client")
    now = now or timezone.now()
    minutes = settings.CASEDESK_CLIENT_LINK_MINUTES
    sent = 0
    for contact in contacts:
        token = secrets.token_urlsafe(32)
        ClientSignInLink.objects.create(
            contact=contact,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        url = settings.CASEDESK_SITE_URL.rstrip("/") + reverse("client_sign_in", args=[token])
        notify(
            people=[contact],
            case=None,
            subject=f"Your sign-in link for {contact.client.name}'s cases",
            body=f"Open this link to see all of {contact.client.name}'s cases:\n\n{url}\n\n"
            f"It works once, for {minutes} minutes. If you did not ask for it, ignore this "
            "email: nobody can sign in without it.",
            ephemeral=True,
            now=now,
        )
        sent += 1
    return sent


def sign_in_link_contact(*, token: str, now: datetime | None = None) -> ClientContact | None:
    """Whose link this is, while it is unused and unexpired (it is not used up by looking)."""
    link = (
        ClientSignInLink.objects.select_related("contact__client")
        .filter(token_hash=hash_token(token), used_at=None, expires_at__gt=now or timezone.now())
        .first()
    )
    return link.contact if link else None


def sign_in_link_redeem(*, token: str, now: datetime | None = None) -> ClientContact | None:
    """Use the link up and return its contact; None if it is wrong, expired or used.

    The conditional update is the claim: of two people using one link, one gets in.
    """
    now = now or timezone.now()
    links = ClientSignInLink.objects.filter(
        token_hash=hash_token(token), used_at=None, expires_at__gt=now
    )
    link = links.select_related("contact__client").first()
    if link is None or links.filter(pk=link.pk).update(used_at=now) != 1:
        return None
    return link.contact


@transaction.atomic
def feedback_give(
    *, case: Case, actor: Actor, rating: int, letter: str = "", now: datetime | None = None
) -> Feedback:
    """The client rates a resolution; it reaches the owner and the owner's supervisor."""
    case = lock_case(pk=case.pk)
    if not permissions.is_contact_of_client(case, actor):
        raise NotPermitted("Only the client can give feedback on their case.")
    if case.state != CaseState.RESOLVED:
        raise InvalidTransition("Feedback is for resolved cases.")
    if not 1 <= rating <= 5:
        raise InvalidTransition("Choose a rating from 1 to 5.")
    now = now or timezone.now()
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                case=case,
                resolved_at=case.closed_at,
                owner=case.owner,
                contact=actor.contact,
                rating=rating,
                letter=letter.strip(),
                created_at=now,
            )
    except IntegrityError:
        raise CaseConflict("Thank you: we already have your feedback on this resolution.") from None
    touch(case, now)
    text = f"Rated {rating} of 5." + (f"\n{feedback.letter}" if feedback.letter else "")
    record(case, actor, EventKind.FEEDBACK, reason=text, client_visible=True, at=now)
    notify(
        people=[p for p in (case.owner, case.owner.manager) if p is not None],
        case=case,
        subject=f"{case.reference}: the client rated the resolution {rating} of 5",
        body=f"Feedback from {actor}: {text}",
        now=now,
        actor=actor,
    )
    return feedback
