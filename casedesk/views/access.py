"""Who may open the workspace: signed-in staff. Anonymous visitors are sent to sign in;
anyone else signed in (a client contact, an admin without a staff profile) gets a 404."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from accounts.models import StaffProfile
from casedesk.actors import Actor
from casedesk.selectors import Viewer


def staff_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        staff = (
            StaffProfile.objects.select_related("user", "department")
            .filter(user_id=request.user.pk)
            .first()
        )
        if staff is None:
            raise Http404
        request.user.staff = staff  # one query for the profile and its department
        request.viewer = Viewer.of(staff)
        request.actor = Actor.for_staff(staff)
        return view(request, *args, **kwargs)

    return wrapper
