"""What every page's frame needs to know, asked of the same rules the views ask."""

from casedesk import permissions
from casedesk.actors import Actor


def navigation(request) -> dict:
    actor = Actor.for_user(request.user) if hasattr(request, "user") else None
    return {"may_see_dashboard": permissions.may_see_dashboard(actor)}
