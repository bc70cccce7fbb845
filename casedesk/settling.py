"""What hangs on a case is settled when the case closes.

A resolved or declined case needs nothing more from anyone: open hand-offs and pending
exception requests are withdrawn, each with a timeline event and a note to its holder, so
no item is left overdue on a dashboard with nobody able to act on it. (Booked call-backs
stand: a call promised to the client is still made.)

Each kind of item registers how it is withdrawn; exception requests live in the
escalation app, which registers itself when it loads, so dependencies keep pointing one
way (accounts ← casedesk ← escalation).
"""

from collections.abc import Callable
from datetime import datetime

from casedesk.actors import Actor
from casedesk.models import Case

Settle = Callable[..., None]
_SETTLERS: list[Settle] = []


def when_a_case_closes(settle: Settle) -> Settle:
    """Register `settle(case, *, actor, now, why)`, run inside the closing transaction."""
    if settle not in _SETTLERS:
        _SETTLERS.append(settle)
    return settle


def settle_closed_case(case: Case, *, actor: Actor, now: datetime, why: str) -> None:
    for settle in _SETTLERS:
        settle(case, actor=actor, now=now, why=why)
