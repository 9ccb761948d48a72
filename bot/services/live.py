"""In-process publish/subscribe of bot messages to a conversation's live listeners.

Used for messages that arrive without the user asking (a test-call outcome, later an
agent's reply). With several workers, a Redis-backed hub with the same two methods
replaces this one.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any


class LiveHub:
    def __init__(self, *, queue_size: int = 100) -> None:
        self._listeners: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._queue_size = queue_size

    def subscribe(self, sender_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._queue_size)
        self._listeners[sender_id].add(queue)
        return queue

    def unsubscribe(self, sender_id: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        listeners = self._listeners.get(sender_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._listeners[sender_id]

    def listeners(self, sender_id: str) -> int:
        return len(self._listeners.get(sender_id, ()))

    async def publish(self, sender_id: str, messages: list[dict[str, Any]]) -> None:
        for queue in list(self._listeners.get(sender_id, ())):
            for message in messages:
                if queue.full():
                    # A stalled listener loses its oldest message rather than blocking turns;
                    # the history endpoint still has every message.
                    queue.get_nowait()
                queue.put_nowait(message)
