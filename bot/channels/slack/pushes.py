"""Forwards live messages for Slack conversations to Slack.

The Assistant publishes every message nobody asked for (a test-call outcome, an agent's
reply) to its live hub. Wrapping that hub (in-process or Redis) catches them where they are
published, once, whichever worker took the webhook; other conversations pass through.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from bot.channels.live import LiveHub
from bot.channels.slack.senders import is_slack_sender

log = logging.getLogger(__name__)

Forward = Callable[[str, list[dict[str, Any]]], Awaitable[None]]


class SlackPushHub(LiveHub):
    # Delegates instead of holding queues itself, so super().__init__ is deliberately not called.
    def __init__(self, inner: LiveHub, forward: Forward) -> None:  # noqa: D107
        self._inner = inner
        self._forward = forward

    def forward_to(self, forward: Forward) -> None:
        self._forward = forward

    def subscribe(self, sender_id: str) -> Any:
        return self._inner.subscribe(sender_id)

    def unsubscribe(self, sender_id: str, queue: Any) -> None:
        self._inner.unsubscribe(sender_id, queue)

    def listeners(self, sender_id: str) -> int:
        return self._inner.listeners(sender_id)

    async def publish(self, sender_id: str, messages: list[dict[str, Any]]) -> None:
        await self._inner.publish(sender_id, messages)
        if is_slack_sender(sender_id) and messages:
            try:
                await self._forward(sender_id, messages)
            except Exception:  # a Slack outage must not fail the webhook that published
                log.exception("forwarding live messages to Slack for %s failed", sender_id)

    def __getattr__(self, name: str) -> Any:
        # start/stop and anything else a hub implementation adds
        return getattr(self._inner, name)
