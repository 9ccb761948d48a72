"""Chooses, once at start-up, where several workers' shared state lives.

With ``HELPDESK_REDIS_URL``: Redis locks per conversation, Redis rate-limit and lockout
counters, Redis publish/subscribe for live pushes. Without it: the single-process versions.
The choice is attached to ``services.extras`` so the runtime and the readiness check find it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.channels.live import LiveHub
from bot.ops.metrics import Metrics
from bot.services.redis_client import Breaker, RedisSettings, sync_client
from bot.services.redis_limits import Limits, LocalLimits, MemoryLimits, RedisLimits
from bot.services.redis_locks import ConversationLocks, LocalLocks, RedisLocks

if TYPE_CHECKING:
    from bot.services.container import Services

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


def attach_shared_state(services: "Services") -> SharedState:
    metrics = Metrics()
    metrics.watch_sessions(services.sessions)
    config = RedisSettings.from_settings(services.settings)

    def failed(operation: str) -> None:
        metrics.redis_errors.labels(operation=operation).inc()

    if config is None:
        shared = SharedState(locks=LocalLocks(), live=LiveHub(), limits=LocalLimits(), metrics=metrics,
                             throttle=MemoryLimits(clock=lambda: services.clock.now().timestamp()))
    else:
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
    # The services that count attempts consult the shared gate before their SQL check.
    accounts = services.accounts
    if accounts is not None:
        accounts.identity.limits = shared.limits
        accounts.activation.limits = shared.limits
        assert shared.throttle is not None
        accounts.activation.once = shared.throttle  # issue 14: one-time QR links
        accounts.throttle = shared.throttle  # issue 14: registration-status look-ups
    if getattr(services, "tickets", None) is not None:
        services.tickets.throttle = shared.throttle  # issue 14: Contact Us tickets    if services.phone_calls is not None:
        services.phone_calls.limits = shared.limits
    services.extras["shared_state"] = shared
    return shared


def shared_state(services: "Services") -> SharedState:
    shared = services.extras.get("shared_state")
    if shared is None:  # a Services built without create_services (some tests)
        shared = attach_shared_state(services)
    return shared
