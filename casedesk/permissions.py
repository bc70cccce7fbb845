"""Who may do what to a case: small predicates, deny by default.

They are the `permission=` of the state machine's transitions (django-fsm calls them with
the case and the actor), and the views and selectors ask the same questions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.chain import is_above, is_at_or_above
from casedesk.actors import Actor

if TYPE_CHECKING:
    from casedesk.models import Attachment, CallBack, Case, Client, HandOff

# The states in which somebody holds a case against a deadline (models.ACTIVE_STATES;
# repeated here as strings because the models import this module).
_ACTIVE = ("open", "escalated", "cross_department")


def is_owner_or_above(case: Case, actor: Actor) -> bool:
    """The owner, or anyone up the owner's reporting chain."""
    return bool(actor.is_staff and is_at_or_above(actor.staff, case.owner))


def is_contact_of_client(case: Case, actor: Actor) -> bool:
    return bool(actor.is_client and actor.client_id == case.client_id)


def may_escalate(case: Case, actor: Actor) -> bool:
    """The owner or above; a client contact asking for a supervisor; a passed deadline."""
    return actor.is_system or is_owner_or_above(case, actor) or is_contact_of_client(case, actor)


def may_reopen(case: Case, actor: Actor) -> bool:
    """A client contact, or staff who work the case: its department or the owner's chain."""
    return is_contact_of_client(case, actor) or may_write_on(case, actor)


def acts_for_receiving_department(case: Case, actor: Actor) -> bool:
    """Staff of a department the case was handed to, or anyone above its accountable person."""
    return any(acts_for_handoff(handoff, actor) for handoff in case.handoffs.all())


def acts_for_handoff(handoff: HandOff, actor: Actor) -> bool:
    return bool(
        actor.is_staff
        and (
            handoff.to_department_id == actor.staff.department_id
            or is_at_or_above(actor.staff, handoff.accountable)
        )
    )


def may_write_on(case: Case, actor: Actor) -> bool:
    """Notes and client messages: whoever works the case, in its department or chain."""
    return bool(
        actor.is_staff
        and (actor.staff.department_id == case.department_id or is_above(actor.staff, case.owner))
    )


def may_remove_attachment(case: Case, attachment: Attachment, actor: Actor) -> bool:
    """Take a file out of view: whoever works the case; on a hand-off's answer, also the
    receiving side that gave it (the case's hand-offs are asked: the page has them)."""
    if may_write_on(case, actor):
        return True
    event = attachment.event
    if event.handoff_id is None or event.kind not in ("handoff_completed", "handoff_declined"):
        return False
    return any(
        handoff.pk == event.handoff_id and acts_for_handoff(handoff, actor)
        for handoff in case.handoffs.all()
    )


def may_open_case_for(client: Client, actor: Actor) -> bool:
    """Staff open cases for the clients of their own department."""
    return bool(actor.is_staff and actor.staff.department_id == client.department_id)


def may_flag_risk(case: Case, actor: Actor) -> bool:
    """Anyone working an unresolved case, on its side or on the side of a department it
    was handed to."""
    return case.state != "resolved" and (
        may_write_on(case, actor) or acts_for_receiving_department(case, actor)
    )


def may_reassign(case: Case, actor: Actor) -> bool:
    """A supervisor at or above the current owner of an active case (never undoing an
    escalation above them)."""
    return bool(
        case.state in _ACTIVE
        and actor.is_staff
        and actor.staff.is_supervisor
        and is_at_or_above(actor.staff, case.owner)
    )


def may_request_handoff(case: Case, actor: Actor) -> bool:
    """The owner or above, on a case being worked (another request while one is open too)."""
    return case.state in _ACTIVE and is_owner_or_above(case, actor)


def may_pause(case: Case, actor: Actor) -> bool:
    """Ask the client something: an open case not already waiting, by its owner or above."""
    return (
        case.state == "open" and not case.waiting_on_client_since and is_owner_or_above(case, actor)
    )


def may_resume(case: Case, actor: Actor) -> bool:
    """Record the client's answer given another way: whoever works a waiting case."""
    return bool(case.waiting_on_client_since) and may_write_on(case, actor)


def may_record_call(case: Case, callback: CallBack, actor: Actor) -> bool:
    """Whoever works the case, and whoever holds the call-back or is above them (a call
    escalated to a director of another department's chain is theirs to make)."""
    return may_write_on(case, actor) or bool(
        actor.is_staff and is_at_or_above(actor.staff, callback.accountable)
    )


def may_convene(handoff: HandOff, actor: Actor) -> bool:
    """A supervisor (or above) working either side of the hand-off: the case's side (its
    department or the owner's chain) or the receiving side (its department or the
    accountable person's chain). Whether it is still open is the action's to say: a
    conflict, not a refusal."""
    return bool(
        actor.is_staff
        and actor.staff.is_supervisor
        and (may_write_on(handoff.case, actor) or acts_for_handoff(handoff, actor))
    )


def may_give_handoff(handoff: HandOff, actor: Actor) -> bool:
    """Give a hand-off to a colleague (anyone on the receiving side may take it): a
    supervisor on that side, or above its holder."""
    return bool(acts_for_handoff(handoff, actor) and actor.staff.is_supervisor)


def may_see_dashboard(actor: Actor | None) -> bool:
    """The approval dashboard: supervisors and above."""
    return bool(actor is not None and actor.is_staff and actor.staff.is_supervisor)
