"""One turn at a time per conversation: in process, or across workers through Redis.

``LocalLocks`` is the single-process version (an ``asyncio.Lock`` per sender).
``RedisLocks`` adds a Redis lock on top: ``SET key token NX PX ttl`` to take it, a Lua
compare-and-delete to release it (only the holder's token may), and a renewal task while
the turn runs, so a worker that dies mid-turn releases the conversation after ``ttl`` at
most and the next turn proceeds on another worker. Coroutines of one process queue on the
local lock first, so only one of them polls Redis for a given conversation.

If Redis cannot be reached the turn still runs under the local lock (logged and counted):
the unique (sender_id, seq) index in the tracker store is the backstop that stops two
workers from interleaving the events of one conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
import weakref
from typing import AsyncIterator, Callable, Protocol

import redis
from redis.exceptions import ConnectionError as RedisConnectionError, RedisError

from bot.errors import ServiceUnavailable
from bot.services.redis_client import Breaker, RedisSettings

log = logging.getLogger(__name__)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class ConversationLocks(Protocol):
    def hold(self, sender_id: str) -> contextlib.AbstractAsyncContextManager[None]: ...


class LocalLocks:
    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def hold(self, sender_id: str) -> AsyncIterator[None]:
        lock = self._locks.get(sender_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[sender_id] = lock
        async with lock:
            yield


class RedisLocks:
    def __init__(self, client: "redis.Redis", config: RedisSettings, *,
                 on_error: Callable[[str], None] | None = None, breaker: Breaker | None = None) -> None:
        self._client = client
        self._local = LocalLocks()
        self._ttl_ms = int(config.lock_ttl_seconds * 1000)
        self._wait = config.lock_wait_seconds
        self._prefix = config.prefix + "lock:"
        self._on_error = on_error or (lambda _where: None)
        self._breaker = breaker or Breaker()
        self._release = client.register_script(_RELEASE)
        self._renew_script = client.register_script(_RENEW)

    @contextlib.asynccontextmanager
    async def hold(self, sender_id: str) -> AsyncIterator[None]:
        async with self._local.hold(sender_id):
            key, token = self._prefix + sender_id, uuid.uuid4().hex
            try:
                if self._breaker.open:
                    raise RedisConnectionError("redis marked down for a few seconds")
                await self._acquire(key, token)
            except RedisError as exc:
                self._failed("lock", exc)
                log.warning("redis lock unavailable (%s); this turn runs under the local lock only",
                            type(exc).__name__)
                yield
                return
            renewal = asyncio.create_task(self._renew(key, token))
            try:
                yield
            finally:
                renewal.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewal
                try:
                    self._release(keys=[key], args=[token])
                except RedisError as exc:
                    self._failed("unlock", exc)  # it expires after the ttl anyway

    def _failed(self, where: str, exc: Exception) -> None:
        self._breaker.trip()
        self._on_error(where)

    async def _acquire(self, key: str, token: str) -> None:
        deadline = time.monotonic() + self._wait
        pause = 0.002
        while True:
            if self._client.set(key, token, nx=True, px=self._ttl_ms):
                return
            if time.monotonic() >= deadline:
                raise ServiceUnavailable("this conversation is busy with an earlier message; "
                                         "please send it again in a moment")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)

    async def _renew(self, key: str, token: str) -> None:
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            try:
                if not self._renew_script(keys=[key], args=[token, self._ttl_ms]):
                    log.warning("a conversation lock expired while its turn was still running")
                    return
            except RedisError as exc:
                self._failed("renew", exc)
