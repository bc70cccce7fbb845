"""The sign-in door: django-axes, wired to our rules.

- Failures are counted per username and per address (`accounts.network.address`, the rule
  every throttle uses) in axes's AccessAttempt rows; CASEDESK_SIGNIN_FAILURE_LIMIT of either
  locks sign-in for that username, or from that address.
- A lock-out lasts CASEDESK_SIGNIN_COOLOFF_MINUTES, doubling with each repeated lock-out of
  the same username or address (up to CASEDESK_SIGNIN_COOLOFF_MAX_HOURS); attempts during
  a lock-out are refused without checking the password and do not extend it.
- Attempts on one username, and from one address, run one at a time (`SignInForm`), so
  parallel requests cannot all pass the check before any failure is counted.
- The person locked out is told when to try again, in words that are the same whether or
  not the account exists; the account's owner is emailed once per lock-out.
- Every attempt is recorded in the access audit (`accounts.audit.access_record`).
"""

from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.shortcuts import render
from django.utils import timezone

from accounts.audit import access_record
from accounts.models import AccessEvent, AccessKind, User
from accounts.network import address
from accounts.sessions import session_start
from casedesk.models import ClientContact
from casedesk.notifications import notify

# A run of lock-outs is forgotten this long after the last one ended: the next starts again
# at the shortest cool-off.
LOCKOUTS_REMEMBERED_FOR = timedelta(hours=24)


class SignInForm(AuthenticationForm):
    """Django's sign-in form, one attempt at a time per username and per address."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        # A refusal is an answer, not an error: what it recorded (the failure, a lock-out,
        # the owner's email) must commit, so it is raised only after the block.
        with attempts_one_at_a_time(username=username, address=address(self.request)):
            try:
                return super().clean()
            except ValidationError as refusal:
                refused = refusal
        raise refused


@contextmanager
def attempts_one_at_a_time(*, username: str, address: str | None):
    """Hold the sign-in of one username and one address for the length of an attempt: its
    lock-out check, its password check and the count of its failure (CVE-2022-35490: a
    lock-out that checks, then counts, lets parallel requests past the limit).

    PostgreSQL: transaction-scoped advisory locks on the two keys, address first then
    username (always that order, so two attempts never wait on each other in a circle);
    nothing to create or clean up, unlike a row per username. SQLite: our transactions
    begin IMMEDIATE, which already runs every writer one at a time."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for key in (f"sign-in address {address}", f"sign-in username {username}"):
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
        yield


class SignInAttempts(AxesDatabaseHandler):
    """axes's database handler (AccessAttempt rows, listed and cleared in the admin), with
    expiry that follows each person's growing cool-off, and our records of each attempt."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:  # axes counts nothing without a request; neither do we
            return super().user_login_failed(sender, credentials, request, **kwargs)
        # Set by axes's backend when it refused an attempt because of a lock-out.
        refused = request.axes_locked_out
        super().user_login_failed(sender, credentials, request, **kwargs)
        now = request.axes_attempt_time
        username = get_client_username(request, credentials) or ""
        access_record(
            kind=AccessKind.SIGN_IN_REFUSED if refused else AccessKind.SIGN_IN_FAILED,
            user=_account(username),
            username=username,
            request=request,
            now=now,
        )
        if request.axes_locked_out and not refused:  # this failure reached the limit
            signin_lock_out(request=request, credentials=credentials, username=username, now=now)

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        now = request.axes_attempt_time
        session_start(session=request.session, now=now)
        access_record(kind=AccessKind.SIGNED_IN, user=user, request=request, now=now)

    def clean_expired_user_attempts(self, request=None, credentials=None) -> int:
        """axes deletes everyone's attempts older than the cool-off of the request at hand,
        which with cool-offs that differ per person would end someone else's longer
        lock-out. Here: the attempts this request is counted against, by its own cool-off;
        anyone's, once older than the longest cool-off."""
        now = getattr(request, "axes_attempt_time", None) or timezone.now()
        forgotten = AccessAttempt.objects.filter(attempt_time__lt=now - longest_cool_off())
        deleted, _ = forgotten.delete()
        if request is not None and hasattr(request, "axes_ip_address"):
            threshold = now - cool_off(request)
            for attempts in self.filter_user_attempts(request, credentials):
                deleted += attempts.filter(attempt_time__lt=threshold).delete()[0]
        return deleted


@transaction.atomic
def signin_lock_out(*, request, credentials: dict, username: str, now: datetime) -> None:
    """The failure just counted locked sign-in for this username or address: record the
    lock-out with its cool-off (the next one doubles it), and when the account itself is
    locked, tell its owner, once for this lock-out."""
    account = _account(username)
    account_locked = _failures_of_username(username, since=now - cool_off(request)) >= _limit()
    # Each grows from its own history: an address's lock-outs never lengthen the first
    # lock-out of an account attacked from it (or the account would be locked for a day).
    previous = _latest_lockout(request, of="username" if account_locked else "address")
    cool = min(previous * 2, longest_cool_off()) if previous else shortest_cool_off()
    access_record(
        kind=AccessKind.LOCKED_OUT,
        user=account,
        username=username,
        request=request,
        now=now,
        detail="username" if account_locked else "address",
        cool_off=cool,
    )
    if account is not None and account_locked:
        _tell_owner(account, until=locked_until(request, credentials), now=now)


def cool_off(request) -> timedelta:
    """AXES_COOLOFF_TIME: how long failures count, for the username and address of this
    request; during a lock-out, how long it lasts. The cool-off of the latest lock-out of
    either while it is remembered, else the shortest."""
    return (request is not None and _latest_lockout(request)) or shortest_cool_off()


def shortest_cool_off() -> timedelta:
    return timedelta(minutes=settings.CASEDESK_SIGNIN_COOLOFF_MINUTES)


def longest_cool_off() -> timedelta:
    return timedelta(hours=settings.CASEDESK_SIGNIN_COOLOFF_MAX_HOURS)


def locked_until(request, credentials: dict | None = None) -> datetime:
    """When the lock-out on this request's username and address ends: for each, the moment
    its counted failures drop below the limit (the failure that makes up the limit,
    counting from the newest, leaves the window); the later of the two."""
    cool = cool_off(request)
    ends = []
    for attempts in AxesProxyHandler.get_implementation().get_user_attempts(request, credentials):
        counted = 0
        for at, failures in attempts.order_by("-attempt_time").values_list(
            "attempt_time", "failures_since_start"
        ):
            counted += failures
            if counted >= _limit():
                ends.append(at + cool)
                break
    return max(ends, default=request.axes_attempt_time + cool)


def locked_out_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the page for a refused or locking attempt. It says when to try
    again and nothing about whether the account exists."""
    context = {"until": locked_until(request, credentials)}
    return render(request, "accounts/locked_out.html", context, status=429)


def _latest_lockout(request, of: str | None = None) -> timedelta | None:
    """The cool-off of the latest lock-out of this request's username (of="username"), of
    its address (of="address"), or of either (None), if it has not been forgotten yet (it
    ended less than LOCKOUTS_REMEMBERED_FOR ago). A lock-out is its username's when the
    username reached the limit, else its address's (the event's detail says which)."""
    username, where = get_client_username(request) or "", address(request)
    who = Q(pk__in=[])
    if username and of in (None, "username"):
        who |= Q(username=username, detail="username")
    if where is not None and of in (None, "address"):
        who |= Q(address=where, detail="address")
    latest = (
        AccessEvent.objects.filter(who, kind=AccessKind.LOCKED_OUT, cool_off__isnull=False)
        .order_by("-at", "-id")
        .only("at", "cool_off")
        .first()
    )
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    if latest is None or latest.at + latest.cool_off + LOCKOUTS_REMEMBERED_FOR < now:
        return None
    return latest.cool_off


def _failures_of_username(username: str, *, since: datetime) -> int:
    counted = AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
    return counted.aggregate(total=Sum("failures_since_start"))["total"] or 0


def _limit() -> int:
    return settings.AXES_FAILURE_LIMIT


def _account(username: str) -> User | None:
    """The account the typed username names, exactly as sign-in looks it up."""
    if not username:
        return None
    return User.objects.filter(username=username).first()


def _tell_owner(account: User, *, until: datetime, now: datetime) -> None:
    owner = getattr(account, "staff", None) or ClientContact.objects.filter(user=account).first()
    if owner is None:  # an account with neither (an administrator): nobody to address
        return
    zone = ZoneInfo(account.time_zone) if account.time_zone else timezone.get_default_timezone()
    local_until = timezone.localtime(until, zone)
    notify(
        people=[owner],
        case=None,
        subject="Sign-in to your account is paused after failed attempts",
        body=(
            f"There were {_limit()} failed attempts to sign in to casedesk as "
            f"{account.get_username()}. Signing in as you is paused until "
            f"{local_until:%H:%M %Z on %d %B %Y}.\n\n"
            "If this was you, wait until then, or ask an administrator to clear the lock. "
            "If it was not you, tell an administrator: someone may be guessing your password."
        ),
        now=now,
    )
