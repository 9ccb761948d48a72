"""Runs custom actions: in-process through rasa-sdk's executor, or on a remote action server.

Both paths speak the rasa-sdk action-server protocol (``next_action``, ``tracker``,
``domain`` in; ``events`` and ``responses`` out), so an action never knows which one ran it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterable, Protocol

import httpx
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor

from bot.errors import ConfigError, ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass
class ActionResult:
    events: list[dict[str, Any]]
    responses: list[dict[str, Any]]


class ActionRunner(Protocol):
    def knows(self, name: str) -> bool: ...

    async def run(self, name: str, *, tracker: dict[str, Any], domain: dict[str, Any]) -> ActionResult: ...


class InProcessActionRunner:
    def __init__(self, actions: Iterable[Action]) -> None:
        self._executor = ActionExecutor()
        for action in actions:
            # Instances, not classes: they carry the injected Services.
            self._executor.register_action(action)

    def knows(self, name: str) -> bool:
        return name in self._executor.actions

    async def run(self, name: str, *, tracker: dict[str, Any], domain: dict[str, Any]) -> ActionResult:
        # The domain goes with every call: it is a reference, so this costs nothing in-process.
        call = {"next_action": name, "tracker": tracker, "domain": domain, "sender_id": tracker["sender_id"]}
        result = await self._executor.run(call)
        if result is None:
            return ActionResult([], [])
        return ActionResult(list(result.events), list(result.responses))


class RemoteActionRunner:
    """Calls a rasa-sdk action server (``python -m rasa_sdk --actions actions``)."""

    def __init__(self, url: str, *, client: httpx.AsyncClient | None = None, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"action_endpoint must be an http(s) URL, got {url!r}")
        self._url = url
        self._client = client or httpx.AsyncClient(timeout=timeout)

    def knows(self, name: str) -> bool:
        return True  # the remote server is the authority; an unknown name returns 404 there

    async def run(self, name: str, *, tracker: dict[str, Any], domain: dict[str, Any]) -> ActionResult:
        call = {"next_action": name, "tracker": tracker, "domain": domain, "sender_id": tracker["sender_id"]}
        try:
            response = await self._client.post(self._url, json=call)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"action server unreachable: {exc}") from exc
        if response.status_code != 200:
            raise ServiceUnavailable(f"action server answered {response.status_code} for {name}")
        body = response.json()
        return ActionResult(list(body.get("events") or []), list(body.get("responses") or []))

    async def close(self) -> None:
        await self._client.aclose()
