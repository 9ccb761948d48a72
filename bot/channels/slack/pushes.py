"""Forwards live messages for Slack conversations to Slack.

Everything said in a conversation without the user asking (a test-call outcome from
Assistant.trigger_intent, a staff member's reply during a handoff) is published to the
runtime's one live hub. Wrapping that hub's ``publish`` on the instance catches every such
message where it is published (once, on the worker that published it, whether the hub is
in-process or Redis-backed) and whoever holds the hub; other conversations pass through.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from bot.services.live import LiveHub
from bot.channels.slack.senders import is_slack_sender

log = logging.getLogger(__name__)

Forward = Callable[[str, list[dict[str, Any]]], Awaitable[None]]


class _Forwarder:
    def __init__(self, publish: Callable[[str, list[dict[str, Any]]], Awaitable[None]], forward: Forward) -> None:
        self.original = publish
        self.forward = forward

    async def __call__(self, sender_id: str, messages: list[dict[str, Any]]) -> None:
        await self.original(sender_id, messages)
        if is_slack_sender(sender_id) and messages:
            try:
                await self.forward(sender_id, messages)
            except Exception:  # a Slack outage must not fail the webhook or the agent that published
                log.exception("forwarding live messages to Slack for %s failed", sender_id)


def forward_slack_pushes(hub: LiveHub, forward: Forward) -> None:
    """Idempotent: a second Slack app over the same runtime (tests) takes the forwarding over."""
    current = hub.__dict__.get("publish")
    if isinstance(current, _Forwarder):
        current.forward = forward
        return
    hub.publish = _Forwarder(hub.publish, forward)  # type: ignore[method-assign]
