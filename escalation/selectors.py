"""Reads for decisions: precedents, and what waits on a supervisor."""

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from accounts.models import StaffProfile
from escalation.models import ExceptionRequest, ExceptionState

PRECEDENTS = 8


@dataclass(frozen=True)
class Precedents:
    decisions: list[ExceptionRequest]
    similar_low: Decimal | None
    similar_high: Decimal | None
    usual: str | None  # "approved" or "denied", among similar amounts
    usual_count: int
    similar_count: int

    def differs(self, outcome: str) -> bool:
        return self.usual is not None and outcome != self.usual


def precedents_for(request: ExceptionRequest) -> Precedents:
    """Recent decisions on the same kind, and the usual outcome for similar amounts
    (within half to double this amount), so decisions stay consistent."""
    decisions = list(
        ExceptionRequest.objects.filter(kind_id=request.kind_id)
        .exclude(state=ExceptionState.PENDING)
        .exclude(pk=request.pk)
        .select_related("decided_by__user", "case")
        .order_by("-decided_at")[:PRECEDENTS]
    )
    low = high = None
    similar = decisions
    if request.amount is not None:
        low, high = request.amount / 2, request.amount * 2
        similar = [d for d in decisions if d.amount is not None and low <= d.amount <= high]
    counts = Counter(d.state for d in similar)
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
