"""Rate-limit counters and identity-check failure counts that every worker shares.

The services keep their durable records in SQL (activation codes, test calls, lockout
rows) and check them as before. In one process that check is already atomic: it is
synchronous code on the one event loop. Across workers it is not (two workers can both
count 2 of 3 and both go ahead), so with Redis each check first passes an atomic gate:

- ``admit``: a fixed-window counter, ``INCR`` + ``PEXPIRE`` in one Lua script, keyed by
  the window's index on the service clock, so fixed-clock tests stay deterministic;
- ``count_failure``: an atomic failure count for an identity-check lockout, which the
  service combines with its SQL count (the larger wins);
- ``clear``: a successful check resets the shared count.

``LocalLimits`` admits everything and counts nothing: the SQL check decides alone.
If Redis cannot be reached the gate opens (logged, counted) and the SQL check decides.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Protocol

import redis
from redis.exceptions import ConnectionError as RedisConnectionError, RedisError

from bot.services.redis_client import Breaker

log = logging.getLogger(__name__)

_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class Limits(Protocol):
    def admit(self, key: str, *, limit: int, window_seconds: int, now: datetime) -> int | None:
        """None when admitted, else the seconds until the window reopens."""

    def count_failure(self, key: str, *, window_seconds: int) -> int:
        """The failure count including this one (0 when not shared)."""

    def clear(self, key: str) -> None: ...

    def first_use(self, key: str, *, ttl_seconds: int) -> bool:
        """True only the first time ``key`` is used within ``ttl_seconds`` (one-time links)."""


class LocalLimits:
    def admit(self, key: str, *, limit: int, window_seconds: int, now: datetime) -> int | None:
        return None

    def count_failure(self, key: str, *, window_seconds: int) -> int:
        return 0

    def clear(self, key: str) -> None:
        return None

    def first_use(self, key: str, *, ttl_seconds: int) -> bool:
        return True  # nothing is remembered here: a one-time use needs MemoryLimits or Redis


class MemoryLimits:
    """Issue 14: counters kept in this process, for limits that have no SQL record to fall
    back on (Contact Us tickets, status look-ups, staff sign-in by address, one-time links).
    With Redis, RedisLimits takes their place so every worker counts together."""

    MAX_KEYS = 50_000  # past this, expired counters are swept (and the oldest dropped)

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        import threading
        import time

        self._now = clock or time.monotonic
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _hit(self, key: str, ttl: float) -> int:
        now = self._now()
        with self._lock:
            count, until = self._counts.get(key, (0, 0.0))
            if until <= now:
                count, until = 0, now + ttl
            self._counts[key] = (count + 1, until)
            if len(self._counts) > self.MAX_KEYS:
                self._sweep(now)
            return count + 1

    def _sweep(self, now: float) -> None:
        for old in [k for k, (_, until) in self._counts.items() if until <= now]:
            del self._counts[old]
        while len(self._counts) > self.MAX_KEYS:
            del self._counts[next(iter(self._counts))]

    def admit(self, key: str, *, limit: int, window_seconds: int, now: datetime) -> int | None:
        stamp = now.timestamp()
        window = int(stamp // window_seconds)
        if self._hit(f"{key}:{window}", window_seconds) <= limit:
            return None
        return max(1, int((window + 1) * window_seconds - stamp))

    def count_failure(self, key: str, *, window_seconds: int) -> int:
        return self._hit(key, window_seconds)

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def first_use(self, key: str, *, ttl_seconds: int) -> bool:
        return self._hit(f"once:{key}", ttl_seconds) == 1


class RedisLimits:
    def __init__(self, client: "redis.Redis", *, prefix: str,
                 on_error: Callable[[str], None] | None = None, breaker: Breaker | None = None) -> None:
        self._client = client
        self._breaker = breaker or Breaker()
        self._prefix = prefix + "limit:"
        self._hit = client.register_script(_HIT)
        self._on_error = on_error or (lambda _where: None)

    def admit(self, key: str, *, limit: int, window_seconds: int, now: datetime) -> int | None:
        stamp = now.timestamp()
        window = int(stamp // window_seconds)
        try:
            self._check()
            count = int(self._hit(keys=[f"{self._prefix}{key}:{window}"],
                                  args=[window_seconds * 1000 + 60_000]))
        except RedisError as exc:
            self._breaker.trip()
            log.warning("redis rate limit unavailable (%s); the database check decides", type(exc).__name__)
            self._on_error("limit")
            return None
        if count <= limit:
            return None
        return max(1, int((window + 1) * window_seconds - stamp))

    def count_failure(self, key: str, *, window_seconds: int) -> int:
        try:
            self._check()
            return int(self._hit(keys=[f"{self._prefix}{key}"], args=[window_seconds * 1000]))
        except RedisError as exc:
            self._breaker.trip()
            log.warning("redis failure counter unavailable (%s)", type(exc).__name__)
            self._on_error("limit")
            return 0

    def clear(self, key: str) -> None:
        try:
            self._check()
            self._client.delete(f"{self._prefix}{key}")
        except RedisError:
            self._breaker.trip()
            self._on_error("limit")

    def first_use(self, key: str, *, ttl_seconds: int) -> bool:
        try:
            self._check()
            return bool(self._client.set(f"{self._prefix}once:{key}", 1, nx=True, ex=max(1, ttl_seconds)))
        except RedisError as exc:
            self._breaker.trip()
            log.warning("redis one-time check unavailable (%s); refused", type(exc).__name__)
            self._on_error("limit")
            return False  # a one-time link fails closed

    def _check(self) -> None:
        if self._breaker.open:
            raise RedisConnectionError("redis marked down for a few seconds")
