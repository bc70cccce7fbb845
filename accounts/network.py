"""Who is asking: the one rule for a request's address, used by every throttle, by sign-in
lock-outs (django-axes) and by the access audit."""

import ipaddress

from django.conf import settings


def address(request) -> str | None:
    """The client's address, or None when there is no valid one. Behind our TLS proxy every
    request comes from the proxy, so the address the proxy saw (the last it appended to
    X-Forwarded-For) is the one counted; otherwise a few strangers' attempts would throttle
    everyone. Earlier hops are whatever the client sent, so they are never trusted."""
    if settings.CASEDESK_BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return _valid(hops[-1])
    return _valid(request.META.get("REMOTE_ADDR", ""))


def _valid(candidate: str) -> str | None:
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
