"""Lets a service start a conversation turn without knowing the dialogue engine.

A Twilio webhook reporting a test-call outcome calls ``bus.trigger(...)``; the app factory
connects the bus to ``Assistant.trigger_intent`` once both exist, which keeps the import
graph one-way (services never import the engine).
"""

from __future__ import annotations

from typing import Any, Awaitable, Protocol


class TriggerHandler(Protocol):
    def __call__(
        self, *, sender_id: str, intent: str, entities: dict[str, Any], metadata: dict[str, Any]
    ) -> Awaitable[Any]: ...


class ConversationBus:
    def __init__(self) -> None:
        self._handler: TriggerHandler | None = None

    def connect(self, handler: TriggerHandler) -> None:
        self._handler = handler

    async def trigger(
        self,
        *,
        sender_id: str,
        intent: str,
        entities: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Any:
        if self._handler is None:
            raise RuntimeError("conversation bus is not connected to an assistant")
        return await self._handler(
            sender_id=sender_id, intent=intent, entities=entities or {}, metadata=metadata or {}
        )
