"""Redis settings and clients for state that several workers share.

Without ``HELPDESK_REDIS_URL`` nothing here is used and every worker keeps its locks,
limits and live listeners in process. Clients use short timeouts so that a Redis outage
turns into a quick, logged fallback rather than a turn that hangs.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Mapping

import redis
import redis.asyncio as aioredis

from bot.config import Settings
from bot.errors import ConfigError

CONNECT_TIMEOUT = 0.5
SOCKET_TIMEOUT = 2.0


@dataclass(frozen=True)
class RedisSettings:
    url: str
    # Keys of one deployment (and of one test) never meet another's on a shared server.
    prefix: str = "helpdesk:"
    # A dead worker's conversation lock is released after this long; a live worker renews it.
    lock_ttl_seconds: float = 10.0
    # How long a turn waits for the conversation's previous turn before giving up.
    lock_wait_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings, env: Mapping[str, str] | None = None) -> "RedisSettings | None":
        """From ``settings.redis_url`` plus the optional ``redis:`` section of config.yml."""
        if not settings.redis_url:
            return None
        env = os.environ if env is None else env
        section = settings.raw.get("redis") or {}
        if not isinstance(section, dict):
            raise ConfigError("config 'redis' must be a mapping")
        try:
            values = cls(
                url=settings.redis_url,
                prefix=str(env.get("HELPDESK_REDIS_PREFIX") or section.get("prefix", "helpdesk:")),
                lock_ttl_seconds=float(env.get("HELPDESK_REDIS_LOCK_TTL") or section.get("lock_ttl_seconds", 10)),
                lock_wait_seconds=float(section.get("lock_wait_seconds", 30)),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config 'redis' has a value of the wrong type: {exc}") from exc
        if not settings.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("HELPDESK_REDIS_URL must start with redis://, rediss:// or unix://")
        if values.lock_ttl_seconds <= 0.1 or values.lock_wait_seconds <= 0:
            raise ConfigError("redis.lock_ttl_seconds and redis.lock_wait_seconds must be positive")
        return values


def _options() -> dict[str, Any]:
    return {"socket_connect_timeout": CONNECT_TIMEOUT, "socket_timeout": SOCKET_TIMEOUT,
            "health_check_interval": 15, "decode_responses": True}


def sync_client(config: RedisSettings) -> "redis.Redis":
    """The client for short commands (locks, counters, publish, ping).

    Synchronous on purpose, like the SQL calls beside it: each command is a sub-millisecond
    round trip on the one event loop, and no connection is tied to a loop (tests and the CLI
    run several loops over one runtime). A breaker (`Breaker`) keeps an outage from costing
    a connect timeout on every turn.
    """
    return redis.Redis.from_url(config.url, **_options())


def pubsub_client(config: RedisSettings) -> "aioredis.Redis":
    """An asyncio client for the live-push reader alone: it holds its connection for good,
    so it gets no socket timeout (it waits for messages) and lives and dies with the reader."""
    return aioredis.Redis.from_url(config.url, **{**_options(), "socket_timeout": None})


class Breaker:
    """After a Redis failure, skip Redis for a few seconds and use the fallback at once."""

    def __init__(self, *, cool_off: float = 5.0) -> None:
        self.cool_off = cool_off
        self._open_until = 0.0

    @property
    def open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self) -> None:
        self._open_until = time.monotonic() + self.cool_off

    def reset(self) -> None:
        self._open_until = 0.0
