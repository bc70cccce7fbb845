"""The access audit: one function writes it, whatever the event (a sign-in, a lock-out, a
password change, a second factor), so every row has the same who, when and where."""

from datetime import datetime

from accounts.models import AccessEvent, AccessKind, User
from accounts.network import address

USER_AGENT_LENGTH = AccessEvent._meta.get_field("user_agent").max_length
USERNAME_LENGTH = AccessEvent._meta.get_field("username").max_length


def access_record(
    *,
    kind: AccessKind,
    user: User | None = None,
    username: str = "",
    request=None,
    now: datetime,
    detail: str = "",
    cool_off=None,
) -> AccessEvent:
    """Record one access event. `username` is what was typed (kept even when it matches no
    account); it defaults to the user's. The address follows the one rule
    (`accounts.network.address`); the user agent is cut to fit."""
    return AccessEvent.objects.create(
        kind=kind,
        user=user,
        username=(username or (user.get_username() if user else ""))[:USERNAME_LENGTH],
        address=address(request) if request is not None else None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH] if request else "",
        detail=detail[:255],
        cool_off=cool_off,
        at=now,
    )


def access_events_of(*, user: User, limit: int = 10) -> list[AccessEvent]:
    """A person's own recent access events, newest first, for their security page."""
    return list(AccessEvent.objects.filter(user=user)[:limit])
