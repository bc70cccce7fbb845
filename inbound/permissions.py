"""Who may see and handle what arrived by email: deny by default, and never another
department (casedesk.selectors' one visibility rule decides for mail about a case).

- Mail about no case (unassigned, ignored, discarded): the staff of the department whose
  mailbox it came to.
- Mail about a case (held, threaded, accepted, rejected): whoever sees that case's client
  side in full: its department, and whoever has its holder in their reporting subtree
  (the holder, their supervisor and up). They may also accept or reject what is held.
"""

from casedesk import permissions
from casedesk.actors import Actor
from casedesk.selectors import Viewer
from inbound.models import InboundMessage


def may_see(viewer: Viewer, message: InboundMessage) -> bool:
    if message.case_id is not None:
        return viewer.sees_client_details(message.case)
    return message.mailbox.department_id == viewer.department_id


def may_handle_unassigned(message: InboundMessage, actor: Actor) -> bool:
    return bool(actor.is_staff and actor.staff.department_id == message.mailbox.department_id)


def may_handle_held(message: InboundMessage, actor: Actor) -> bool:
    case = message.case
    return case is not None and (
        permissions.may_write_on(case, actor) or permissions.is_owner_or_above(case, actor)
    )
