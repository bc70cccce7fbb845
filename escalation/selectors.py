"""Reads for decisions: an exception request's page, precedents, and what waits on a
supervisor. Each asks casedesk's visibility rule of the case behind it."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import StaffProfile
from casedesk.selectors import Viewer, cases_visible_to
from escalation.authority import may_decide
from escalation.models import ExceptionRequest, ExceptionState

PRECEDENTS = 8


def exception_for_viewer(viewer: Viewer, request_id: int) -> ExceptionRequest | None:
    """A request is its case's client side (the justification, the client's rationale):
    shown to whoever sees that case in full and to whoever may decide it; to anyone else,
    the other department a case was handed to included, it does not exist."""
    request = (
        ExceptionRequest.objects.select_related(
            "case", "kind", "approver__user", "requested_by__user", "decided_by__user"
        )
        .prefetch_related("skipped__user")
        .filter(pk=request_id, case__in=cases_visible_to(viewer))
        .first()
    )
    if request is None:
        return None
    if viewer.sees_client_details(request.case) or may_decide(
        viewer.staff, approver=request.approver, kind=request.kind, amount=request.amount
    ):
        return request
    return None


@dataclass(frozen=True)
class Precedent:
    """One earlier decision as a viewer may read it: what was asked, the outcome, when and
    by whom for everyone; the case and the rationale only to who sees that case in full."""

    amount: Decimal | None
    outcome: str
    outcome_label: str
    decided_at: datetime
    decided_by: str
    case_reference: str | None
    rationale: str | None


@dataclass(frozen=True)
class Precedents:
    decisions: list[Precedent]
    similar_low: Decimal | None
    similar_high: Decimal | None
    usual: str | None  # "approved" or "denied", among similar amounts
    usual_count: int
    similar_count: int

    def differs(self, outcome: str) -> bool:
        return self.usual is not None and outcome != self.usual


def precedents_for(request: ExceptionRequest, viewer: Viewer) -> Precedents:
    """Recent decisions on the same kind, in every department, and the usual outcome for
    similar amounts (within half to double this amount), so decisions stay consistent;
    another department's rationale (it may name its client) stays with that department."""
    decided = list(
        ExceptionRequest.objects.filter(
            kind_id=request.kind_id, state__in=[ExceptionState.APPROVED, ExceptionState.DENIED]
        )
        .exclude(pk=request.pk)
        .select_related("decided_by__user", "case")
        .order_by("-decided_at")[:PRECEDENTS]
    )
    decisions = [
        Precedent(
            amount=d.amount,
            outcome=d.state,
            outcome_label=d.get_state_display(),
            decided_at=d.decided_at,
            decided_by=d.decided_by.name if d.decided_by else "",
            case_reference=d.case.reference if viewer.sees_client_details(d.case) else None,
            rationale=d.rationale if viewer.sees_client_details(d.case) else None,
        )
        for d in decided
    ]
    low = high = None
    similar = decisions
    if request.amount is not None:
        low, high = request.amount / 2, request.amount * 2
        similar = [d for d in decisions if d.amount is not None and low <= d.amount <= high]
    counts = Counter(d.outcome for d in similar)
    usual, usual_count = counts.most_common(1)[0] if counts else (None, 0)
    if counts and len(counts) == 2 and counts["approved"] == counts["denied"]:
        usual = None  # a tie is no usual outcome
    return Precedents(decisions, low, high, usual, usual_count, len(similar))


def pending_decisions_for(person: StaffProfile) -> QuerySet[ExceptionRequest]:
    return (
        ExceptionRequest.objects.filter(approver=person, state=ExceptionState.PENDING)
        .select_related("case", "kind", "requested_by__user")
        .order_by("created_at")
    )
