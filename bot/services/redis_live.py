"""Live pushes across workers: LiveHub's interface over Redis publish/subscribe.

A message published on any worker (a test-call outcome arriving on the worker that took
Twilio's webhook, an agent's reply) goes to Redis; every worker runs one reader that
pattern-subscribes to the deployment's live channels and hands each message to the local
listeners of that conversation, i.e. to the worker holding the user's SSE stream.

If Redis cannot be reached a publish is delivered to this worker's listeners only (logged
and counted); the reader reconnects by itself. Every message is stored before it is
published, so a listener that missed one finds it in the history endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Callable

import redis
from redis.exceptions import ConnectionError as RedisConnectionError, RedisError

from bot.services.live import LiveHub
from bot.services.redis_client import Breaker, RedisSettings, pubsub_client

log = logging.getLogger(__name__)

RECONNECT_SECONDS = 0.5


class RedisLiveHub(LiveHub):
    def __init__(self, client: "redis.Redis", config: RedisSettings, *, queue_size: int = 100,
                 on_error: Callable[[str], None] | None = None, breaker: Breaker | None = None) -> None:
        super().__init__(queue_size=queue_size)
        self._client = client
        self._config = config
        self._prefix = config.prefix + "live:"
        self._readers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        self._subscribed: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}
        self._on_error = on_error or (lambda _where: None)
        self._breaker = breaker or Breaker()

    async def start(self) -> None:
        """Start this event loop's reader (the app's lifespan does); returns once subscribed,
        or after a short wait when Redis is down (the reader keeps trying). One reader per
        loop: tests may run an app's lifespan in more than one."""
        loop = asyncio.get_running_loop()
        reader = self._readers.get(loop)
        if reader is None or reader.done():
            self._subscribed[loop] = asyncio.Event()
            self._readers[loop] = asyncio.create_task(self._read(self._subscribed[loop]),
                                                      name="redis-live-reader")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._subscribed[loop].wait(), 2.0)

    async def stop(self) -> None:
        loop = asyncio.get_running_loop()
        reader = self._readers.pop(loop, None)
        self._subscribed.pop(loop, None)
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    @property
    def subscribed(self) -> bool:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        reader, event = self._readers.get(loop), self._subscribed.get(loop)
        return reader is not None and not reader.done() and event is not None and event.is_set()

    async def publish(self, sender_id: str, messages: list[dict[str, Any]]) -> None:
        payload = json.dumps({"sender_id": sender_id, "messages": messages})
        try:
            if self._breaker.open:
                raise RedisConnectionError("redis marked down for a few seconds")
            self._client.publish(self._prefix + sender_id, payload)
        except RedisError as exc:
            self._breaker.trip()
            log.warning("redis publish failed (%s); delivering on this worker only", type(exc).__name__)
            self._on_error("publish")
            await super().publish(sender_id, messages)
            return
        if not self.subscribed:
            # No reader here (a runtime used without the app, or Redis just came back):
            # this worker's own listeners get it directly.
            await super().publish(sender_id, messages)

    async def _read(self, subscribed: asyncio.Event) -> None:
        client = pubsub_client(self._config)
        try:
            while True:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                try:
                    await pubsub.psubscribe(self._prefix + "*")
                    subscribed.set()
                    async for item in pubsub.listen():
                        if item.get("type") != "pmessage":
                            continue
                        try:
                            data = json.loads(item["data"])
                            await super().publish(str(data["sender_id"]), list(data["messages"]))
                        except (ValueError, KeyError, TypeError):
                            log.warning("ignored a malformed live message")
                except (RedisError, OSError) as exc:
                    subscribed.clear()
                    log.warning("redis live reader lost its connection (%s); reconnecting",
                                type(exc).__name__)
                    self._on_error("subscribe")
                    await asyncio.sleep(RECONNECT_SECONDS)
                finally:
                    subscribed.clear()
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
        finally:
            await client.aclose()
