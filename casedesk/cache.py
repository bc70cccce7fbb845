"""The Django cache on Redis that fails open: when Redis does not answer, each process counts
in its own memory for a while and logs a warning, so no page waits on, or fails with, Redis.

What the cache holds (throttle counts) is worth less than the page: while Redis is away a
throttle counts per process, which is looser, never stricter. The first failed call costs at
most the socket timeout (CACHES OPTIONS); after it the process does not ask Redis again for
RETRY_SECONDS, so a frozen Redis costs one timeout per process per interval, not per call.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

RETRY_SECONDS = 30
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)

# Per server, shared by the threads of a process (Django makes a cache object per thread).
_away_until: dict[str, float] = {}


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._server_key = str(server)
        self._local = LocMemCache(f"casedesk-fail-open:{server}", params)

    def _either(self, name, *args, **kwargs):
        if time.monotonic() < _away_until.get(self._server_key, 0.0):
            return getattr(self._local, name)(*args, **kwargs)
        try:
            return getattr(RedisCache, name)(self, *args, **kwargs)
        except UNREACHABLE as error:
            _away_until[self._server_key] = time.monotonic() + RETRY_SECONDS
            log.warning(
                "cache: Redis does not answer (%s); counting in this process's memory for %ss",
                error.__class__.__name__,
                RETRY_SECONDS,
            )
            return getattr(self._local, name)(*args, **kwargs)

    def add(self, key, value, timeout=None, version=None):
        return self._either("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._either("get", key, default, version)

    def set(self, key, value, timeout=None, version=None):
        return self._either("set", key, value, timeout, version)

    def touch(self, key, timeout=None, version=None):
        return self._either("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._either("delete", key, version)

    def get_many(self, keys, version=None):
        return self._either("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._either("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._either("incr", key, delta, version)

    def set_many(self, data, timeout=None, version=None):
        return self._either("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._either("delete_many", keys, version)

    def clear(self):
        return self._either("clear")
