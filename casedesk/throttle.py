"""Counting attempts per key in the cache, for what strangers can try: status-page tokens,
sign-in links and sign-in requests. Shared across web processes when the cache is Redis.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


@dataclass(frozen=True)
class Throttle:
    name: str
    limit: int
    window: int = 600  # seconds

    def _key(self, who: str) -> str:
        return f"throttle:{self.name}:{who}"

    def exceeded(self, who: str) -> bool:
        return cache.get(self._key(who), 0) >= self.limit

    def count(self, who: str) -> None:
        key = self._key(who)
        if cache.add(key, 1, self.window):
            return
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, self.window)


def address(request) -> str:
    """Who is asking. Behind our TLS proxy every request comes from the proxy, so the
    address the proxy saw (the last it appended to X-Forwarded-For) is the one counted;
    otherwise a few strangers' attempts would throttle everyone."""
    if settings.CASEDESK_BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "unknown")
