"""How long a password sign-in lasts: it ends after CASEDESK_SESSION_IDLE_MINUTES without a
request, and CASEDESK_SESSION_MAX_HOURS after signing in, whichever comes first. Both apply
to everyone who signs in with a password, staff and client contacts alike."""

from datetime import datetime, timedelta

from django.conf import settings

SIGNED_IN_AT = "accounts.signed_in_at"
LAST_SEEN = "accounts.last_seen"
# Activity is written to the session at most once a minute, not on every request.
SEEN_GRANULARITY = timedelta(minutes=1)


def session_start(*, session, now: datetime) -> None:
    """A sign-in starts both clocks (a sign-in over an earlier one restarts them)."""
    session[SIGNED_IN_AT] = session[LAST_SEEN] = int(now.timestamp())


def session_over(*, session, now: datetime) -> str | None:
    """Why this signed-in session has ended ("idle" or "max_age"), or None while it lasts.
    A session signed in before these clocks existed starts them now."""
    if SIGNED_IN_AT not in session:
        session_start(session=session, now=now)
        return None
    signed_in_at = datetime.fromtimestamp(session[SIGNED_IN_AT], tz=now.tzinfo)
    last_seen = datetime.fromtimestamp(session.get(LAST_SEEN, session[SIGNED_IN_AT]), tz=now.tzinfo)
    if now - signed_in_at >= timedelta(hours=settings.CASEDESK_SESSION_MAX_HOURS):
        return "max_age"
    if now - last_seen >= timedelta(minutes=settings.CASEDESK_SESSION_IDLE_MINUTES):
        return "idle"
    if now - last_seen >= SEEN_GRANULARITY:
        session[LAST_SEEN] = int(now.timestamp())
    return None
