"""Counting attempts per key in the cache, for what strangers can try: status-page tokens,
sign-in links and sign-in requests. Shared across web processes when the cache is Redis.
"""

from dataclasses import dataclass

from django.core.cache import cache

from accounts.network import address

__all__ = ["Throttle", "address"]  # address: the one rule, shared with sign-in lock-outs


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
