"""The web widget's side of issue 14's conversation credential, for tests that talk HTTP:
keep the X-Conversation-Token of a conversation's first reply and send it afterwards."""

from __future__ import annotations

from typing import Any

from bot.channels.credentials import HEADER


def _credentials(client: Any) -> dict[str, str]:
    found: dict[str, str] | None = getattr(client, "_conversation_credentials", None)
    if found is None:
        found = {}
        client._conversation_credentials = found
    return found


def say(client: Any, sender: str, text: str, *, channel: str | None = None) -> Any:
    """POSTs one turn as the conversation's owner; returns the response."""
    credentials = _credentials(client)
    body: dict[str, Any] = {"sender": sender, "message": text}
    if channel:
        body["metadata"] = {"channel": channel}
    headers = {HEADER: credentials[sender]} if sender in credentials else {}
    response = client.post("/webhooks/rest/webhook", json=body, headers=headers)
    if HEADER.lower() in response.headers:
        credentials[sender] = response.headers[HEADER]
    return response


def history(client: Any, sender: str, **params: Any) -> Any:
    """GET /conversations/{sender}/messages with the conversation's credential."""
    token = _credentials(client).get(sender, "")
    return client.get(f"/conversations/{sender}/messages", params=params, headers={HEADER: token})
