from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts import second_factor


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


class SecondFactorMiddleware:
    """After the password, the second factor: a session of someone with an authenticator
    is sent to verify it before anything else, and someone who must have one (the rule in
    accounts.second_factor) is sent to set it up. Runs after django-otp's OTPMiddleware.

    Whether the person has a device is kept in the session (set at sign-in and whenever it
    changes), so pages pay no query for it.
    """

    OPEN_PATHS = ("/accounts/two-factor/", "/accounts/logout/", "/static/", "/healthz")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not request.path.startswith(self.OPEN_PATHS):
            if second_factor.session_has_device(request) and not user.is_verified():
                return _to("two_factor_verify", request)
            if second_factor.is_required_for(user) and not second_factor.session_has_device(
                request
            ):
                return _to("two_factor_setup", request)
        return self.get_response(request)


def _to(name: str, request):
    return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
