"""A second factor for signing in: an authenticator app (TOTP) with one-time recovery codes.

Built on django-otp: its TOTP and static (recovery code) devices, and its middleware that
marks a session verified. Whether a person must use one is one rule, `is_required_for`:
supervisors and above and administrators when CASEDESK_SECOND_FACTOR_REQUIRED is on,
agents too when CASEDESK_SECOND_FACTOR_AGENTS is "required"; anyone on staff may enrol.
Client contacts sign in by emailed links and are not asked.
"""

import base64
import io
from dataclasses import dataclass
from datetime import datetime

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.audit import access_record
from accounts.models import AccessKind, User
from accounts.services import sessions_end_others

APP_DEVICE = "Authenticator app"
CODES_DEVICE = "Recovery codes"
RECOVERY_CODES = 10


class SecondFactorError(Exception):
    """A code that does not match; str(error) is shown to the person."""


def may_enrol(user: User) -> bool:
    return bool(user.is_authenticated and (hasattr(user, "staff") or user.is_superuser))


def awaits_code(user: User) -> bool:
    """Signed in with the password but not yet with the authenticator they have."""
    return has_second_factor(user) and not user.is_verified()


def is_required_for(user: User) -> bool:
    if not settings.CASEDESK_SECOND_FACTOR_REQUIRED or not may_enrol(user):
        return False
    if user.is_superuser or user.is_staff:
        return True  # administrators
    staff = getattr(user, "staff", None)
    return staff is not None and (
        staff.is_supervisor or settings.CASEDESK_SECOND_FACTOR_AGENTS == "required"
    )


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


SESSION_KEY = "casedesk_has_second_factor"


def session_has_device(request) -> bool:
    """Whether the signed-in person has an authenticator, as remembered in their session
    (looked up once, then kept until it changes)."""
    if SESSION_KEY not in request.session:
        remember_device(request)
    return request.session[SESSION_KEY]


def remember_device(request) -> None:
    request.session[SESSION_KEY] = has_second_factor(request.user)


def enrolment_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being set up (a new secret each time one is started)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)


@dataclass(frozen=True)
class Enrolled:
    recovery_codes: list[str]


@transaction.atomic
def second_factor_enrol(*, user: User, code: str, request, now: datetime) -> Enrolled:
    """Confirm the authenticator with a code it shows; issue fresh recovery codes (shown
    once); the session counts as verified from now on and every other session ends. Only
    a session without a second factor, or already verified by one, may do this (the
    middleware and the view see to it)."""
    device = enrolment_device(user)
    if not device.verify_token(code.strip().replace(" ", "")):
        access_record(
            kind=AccessKind.SECOND_FACTOR_FAILED,
            user=user,
            request=request,
            now=now,
            detail="at enrolment",
        )
        raise SecondFactorError("That code does not match. Check the app's clock and try again.")
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    codes_device = StaticDevice.objects.create(user=user, name=CODES_DEVICE, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=codes_device, token=c) for c in codes])
    # Sessions signed in before remember "no second factor": they end, so none of them
    # (a stolen password's, say) outlives the new protection.
    sessions_end_others(request=request, now=now)
    django_otp.login(request, device)
    request.session[SESSION_KEY] = True
    access_record(kind=AccessKind.SECOND_FACTOR_ENROLLED, user=user, request=request, now=now)
    return Enrolled(recovery_codes=codes)


def second_factor_verify(*, user: User, code: str, request, now: datetime) -> str:
    """Verify this session with a code from the app or a recovery code (which is used up).
    Answers which kind of device it was: "app" or "recovery"."""
    device = django_otp.match_token(user, code.strip().replace(" ", ""))
    if device is None:
        access_record(kind=AccessKind.SECOND_FACTOR_FAILED, user=user, request=request, now=now)
        raise SecondFactorError("That code does not match. Try the current one from your app.")
    django_otp.login(request, device)
    if isinstance(device, StaticDevice):
        left = StaticToken.objects.filter(device=device).count()
        access_record(
            kind=AccessKind.RECOVERY_CODE_USED,
            user=user,
            request=request,
            now=now,
            detail=f"{left} recovery code(s) left",
        )
        return "recovery"
    return "app"


@transaction.atomic
def second_factor_reset(*, user: User, by: User | None, request=None, now: datetime) -> bool:
    """Remove every device (an administrator's help for a lost phone); whether there was
    one. The person sets a new one up at their next sign-in if their role needs it."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    removed += StaticDevice.objects.filter(user=user).delete()[0]
    access_record(
        kind=AccessKind.SECOND_FACTOR_RESET,
        user=user,
        request=request,
        now=now,
        detail=f"by {by.username}" if by else "",
    )
    return removed > 0


def remember_at_sign_in(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = has_second_factor(user)


def typed_key(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// address an authenticator app scans, drawn as SVG."""
    buffer = io.BytesIO()
    segno.make(device.config_url, error="m").save(buffer, kind="svg", scale=5, border=2)
    return buffer.getvalue().decode()
