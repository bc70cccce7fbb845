from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts import second_factor
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


class SecondFactorMiddleware:
    """After the password, the second factor: a session of someone with an authenticator
    is sent to verify it before anything else, and someone who must have one (the rule in
    accounts.second_factor) is sent to set it up. Runs after django-otp's OTPMiddleware.

    Whether the person has a device is kept in the session (set at sign-in and whenever it
    changes), so pages pay no query for it.
    """

    # Reachable before the code: signing out, static files, the health check, and the
    # verify page itself. Setting up a new authenticator is not: a password alone must not
    # replace the one the person has.
    ALWAYS_OPEN = ("/accounts/logout/", "/static/", "/healthz", "/accounts/two-factor/verify/")
    SETUP = "/accounts/two-factor/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not request.path.startswith(self.ALWAYS_OPEN):
            has_device = second_factor.session_has_device(request)
            if has_device and not user.is_verified():
                return _to("two_factor_verify", request)
            setting_up = request.path.startswith(self.SETUP)
            if not has_device and not setting_up and second_factor.is_required_for(user):
                return _to("two_factor_setup", request)
        return self.get_response(request)


def _to(name: str, request):
    return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
