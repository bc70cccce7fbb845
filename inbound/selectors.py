"""Reads of the mail that waits for a person, newest first, a page at a time (keyset:
`before` the last id shown), through inbound.permissions' rule as queries."""

from django.db.models import Count, Q, QuerySet

from casedesk.models import Case, Client
from casedesk.selectors import Viewer, seen_in_full
from inbound.models import InboundMessage, Mailbox, Outcome
from inbound.permissions import may_see


def _unassigned(viewer: Viewer) -> Q:
    mailboxes = Mailbox.objects.filter(department_id=viewer.department_id).values("pk")
    return Q(outcome=Outcome.UNASSIGNED, mailbox_id__in=mailboxes)


def _held(viewer: Viewer) -> Q:
    return Q(
        outcome=Outcome.HELD, case_id__in=Case.objects.filter(seen_in_full(viewer)).values("pk")
    )


LISTS = {"unassigned": _unassigned, "held": _held}


def mail_page(
    viewer: Viewer, which: str, *, before: int | None, size: int
) -> tuple[list[InboundMessage], int | None]:
    """One page of the list, and the id to ask for the next (None: this is the last)."""
    messages = InboundMessage.objects.filter(LISTS[which](viewer))
    if before is not None:
        messages = messages.filter(pk__lt=before)
    rows = list(
        messages.select_related("mailbox", "case__client", "contact").order_by("-pk")[: size + 1]
    )
    return rows[:size], (rows[size - 1].pk if len(rows) > size else None)


def waiting_counts(viewer: Viewer) -> dict[str, int]:
    """How many wait in each list, in one query."""
    return InboundMessage.objects.filter(_unassigned(viewer) | _held(viewer)).aggregate(
        unassigned=Count("pk", filter=Q(outcome=Outcome.UNASSIGNED)),
        held=Count("pk", filter=Q(outcome=Outcome.HELD)),
    )


def message_for(viewer: Viewer, pk: int) -> InboundMessage | None:
    if not 0 < pk < 2**63:
        return None
    message = (
        InboundMessage.objects.select_related(
            "mailbox", "case__client", "contact", "handled_by__user"
        )
        .filter(pk=pk)
        .first()
    )
    return message if message is not None and may_see(viewer, message) else None


def clients_of(viewer: Viewer) -> QuerySet[Client]:
    return Client.objects.filter(department_id=viewer.department_id).order_by("name")
