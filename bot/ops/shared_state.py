"""Chooses, once at start-up, where several workers' shared state lives.

With ``HELPDESK_REDIS_URL``: Redis locks per conversation, Redis rate-limit and lockout
counters, Redis publish/subscribe for live pushes. Without it: the single-process versions.
bot/composition.py attaches the choice to ``services.extras`` (the runtime and the readiness
check find it there) and hands its rate-limit gate to the services that count attempts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.ops.metrics import Metrics
from bot.services.live import LiveHub
from bot.services.redis_client import Breaker, RedisSettings, sync_client
from bot.services.redis_limits import Limits, LocalLimits, MemoryLimits, RedisLimits
from bot.services.redis_locks import ConversationLocks, LocalLocks, RedisLocks

log = logging.getLogger(__name__)


@dataclass
class SharedState:
    locks: ConversationLocks
    live: LiveHub
    limits: Limits
    metrics: Metrics
    # Issue 14: abuse limits with no SQL record behind them (tickets, status look-ups, staff
    # sign-in by address, one-time links): counted here, or in Redis across workers.
    throttle: Limits | None = None
    redis: RedisSettings | None = None
    sync_redis: Any = None

    async def start(self) -> None:
        start = getattr(self.live, "start", None)
        if start is not None:
            await start()

    async def stop(self) -> None:
        stop = getattr(self.live, "stop", None)
        if stop is not None:
            await stop()

    def close(self) -> None:
        if self.sync_redis is not None:
            self.sync_redis.close()


def build_shared_state(*, settings: Settings, sessions: sessionmaker[Session],
                       now: Callable[[], float]) -> SharedState:
    metrics = Metrics()
    metrics.watch_sessions(sessions)
    config = RedisSettings.from_settings(settings)

    def failed(operation: str) -> None:
        metrics.redis_errors.labels(operation=operation).inc()

    if config is None:
        return SharedState(locks=LocalLocks(), live=LiveHub(), limits=LocalLimits(), metrics=metrics,
                           throttle=MemoryLimits(clock=now))
    from bot.services.redis_live import RedisLiveHub

    sync = sync_client(config)
    breaker = Breaker()  # one view per worker of whether Redis is up
    shared = SharedState(
        locks=RedisLocks(sync, config, on_error=failed, breaker=breaker),
        live=RedisLiveHub(sync, config, on_error=failed, breaker=breaker),
        limits=RedisLimits(sync, prefix=config.prefix, on_error=failed, breaker=breaker),
        metrics=metrics, redis=config, sync_redis=sync,
    )
    shared.throttle = shared.limits
    log.info("shared state in Redis (key prefix %s)", config.prefix)
    return shared
