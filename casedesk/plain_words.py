"""What the client reads: the state of their case, what happens next and by when, and each
change, in plain words. One place, so the status page and the emails to the client's
contacts always say the same thing.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from casedesk.models import Case, CaseEvent, CaseState, EventKind

PLAIN_STATE = {
    CaseState.OPEN: "We're working on it",
    CaseState.ESCALATED: "With a supervisor",
    CaseState.CROSS_DEPARTMENT: "Waiting on another team",
    CaseState.DENIED: "Declined: you can ask for a review",
    CaseState.RESOLVED: "Resolved",
}

# How each client-visible change reads to the client (the staff labels say it from inside).
HEADLINES = {
    EventKind.OPENED: "We opened your case",
    EventKind.RESOLVED: "Your case is resolved",
    EventKind.DENIED: "Your request was declined",
    EventKind.ESCALATED: "Your case went to a supervisor",
    EventKind.REOPENED: "Your case is open again",
    EventKind.MESSAGE: "Message",
    EventKind.WAITING_ON_CLIENT: "We need something from you",
    EventKind.EXCEPTION_APPROVED: "A decision on your request: approved",
    EventKind.EXCEPTION_DENIED: "A decision on your request: declined",
    EventKind.CALLBACK_REQUESTED: "Call-back booked",
    EventKind.CALLBACK_DONE: "We called you back",
    EventKind.CALLBACK_ESCALATED: "Your call-back went to a supervisor",
    EventKind.CALLBACK_CANCELLED: "Call-back cancelled",
    EventKind.FEEDBACK: "Your feedback",
}
DECISIONS = {EventKind.EXCEPTION_APPROVED, EventKind.EXCEPTION_DENIED}


def headline(event: CaseEvent) -> str:
    if event.kind == EventKind.OPENED and event.actor_contact_id:
        return "We received your request"  # the client sent it in themselves
    return HEADLINES.get(event.kind, event.get_kind_display())


@dataclass(frozen=True)
class NextStep:
    """'<text> by <by>': what happens next on a case, and the stored deadline it runs to.
    `late`: the promised time has passed (it is never shown as a future one)."""

    text: str
    by: datetime | None
    late: datetime | None = None


def next_step(case: Case, *, now: datetime) -> NextStep | None:
    """None when nothing is due from us: the case is declined (the client may appeal) or
    resolved (they may reopen). A promise that passed (a breach at the top of a chain that
    re-armed, or a deadline the sweep has not reached yet) is late, not moved on."""
    step = _next_step(case)
    if step is None:
        return None
    late = case.late_since or (step.by if step.by is not None and step.by <= now else None)
    return NextStep(step.text, step.by, late) if late else step


def _next_step(case: Case) -> NextStep | None:
    owner = case.owner.name
    if case.state == CaseState.OPEN and case.waiting_on_client_since:
        return NextStep(
            f"We are waiting for the information asked for; once you send it, {owner} "
            "carries on. If nothing arrives, they follow up",
            case.due_at,
        )
    if case.state == CaseState.OPEN:
        above = case.owner.manager.name if case.owner.manager else "the head of the team"
        return NextStep(
            f"{owner} will get back to you (if not, it goes to {above} automatically)",
            case.due_at,
        )
    if case.state == CaseState.ESCALATED:
        return NextStep(f"{owner} will decide", case.due_at)
    if case.state == CaseState.CROSS_DEPARTMENT:
        return NextStep(f"another team is doing their part; {owner} will update you", case.due_at)
    return None


def site_time(moment: datetime) -> str:
    """A time for an email, in the site's zone whatever zone the request runs in."""
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime("%A %-d %B, %H:%M %Z")


def client_time(moment: datetime, zone: str) -> str:
    """A time as the client chose it (a call-back's), in their own zone."""
    return moment.astimezone(ZoneInfo(zone)).strftime(f"%A %-d %B at %H:%M ({zone})")


def late_words(case: Case, step: NextStep) -> str:
    """What the client reads when a promise passed: late, and who has been reminded."""
    return (
        f"This is late: it was due {site_time(step.late)}. {case.owner.name}, "
        f"{case.owner.title}, has been reminded and it stays with them until it is done."
    )


def client_email(case: Case, event: CaseEvent) -> tuple[str, str]:
    """The subject and body telling the client's contacts about one change to their case."""
    lines = [event.reason] if event.reason else []
    holder = f"{case.owner.name}, {case.owner.title}, has your case"
    if case.owner.manager:
        holder += f"; their supervisor is {case.owner.manager.name}"
    lines.append(f"{PLAIN_STATE[case.state]}. {holder}.")
    step = next_step(case, now=event.created_at)
    if step is not None and step.late is not None:
        lines.append(f"What happens next: {step.text}. {late_words(case, step)}")
    elif step is not None and step.by is not None:
        lines.append(f"What happens next: {step.text} by {site_time(step.by)}.")
    elif case.state == CaseState.DENIED:
        lines.append("If you disagree, you can ask for a supervisor to review it.")
    return f"{case.reference}: {headline(event)}", "\n\n".join(lines)
