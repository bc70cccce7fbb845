from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils import timezone

from accounts.audit import access_record
from accounts.models import AccessKind
from accounts.sessions import session_over


class UserTimeZoneMiddleware:
    """Show times in the signed-in person's own time zone, when they have set one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = getattr(request.user, "time_zone", "")
        if zone:
            timezone.activate(ZoneInfo(zone))
        else:
            timezone.deactivate()
        return self.get_response(request)


class SessionLimitsMiddleware:
    """End a password sign-in that has been idle too long or has reached its maximum age,
    before the request runs: the request goes on signed out (and pages that need a
    sign-in send the person to it, with a note saying why)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = timezone.now()
            reason = session_over(session=request.session, now=now)
            if reason is not None:
                user = request.user
                logout(request)
                access_record(
                    kind=AccessKind.SESSION_EXPIRED,
                    user=user,
                    request=request,
                    now=now,
                    detail=reason,
                )
                messages.info(request, _why(reason))
        return self.get_response(request)


def _why(reason: str) -> str:
    if reason == "idle":
        minutes = settings.CASEDESK_SESSION_IDLE_MINUTES
        return f"You were signed out after {minutes} minutes without activity."
    hours = settings.CASEDESK_SESSION_MAX_HOURS
    return f"You were signed out: a sign-in lasts at most {hours} hours. Please sign in again."
