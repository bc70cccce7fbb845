"""Who may open the workspace: signed-in staff. Anonymous visitors are sent to sign in;
anyone else signed in (a client contact, an admin without a staff profile) gets a 404."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from accounts.directory import staff_directory
from casedesk.actors import Actor
from casedesk.selectors import Viewer


def staff_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        directory = staff_directory()  # one query: the profile, its subtree, everyone's chain
        staff = directory.with_user(request.user.pk)
        if staff is None:
            raise Http404
        request.user.staff = staff
        request.viewer = Viewer.of(staff, directory=directory)
        request.actor = Actor.for_staff(staff)
        return view(request, *args, **kwargs)

    return wrapper
