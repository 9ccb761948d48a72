"""Conversation ids for Slack: one per DM channel, one per thread elsewhere.

``slack:<team>:<channel>`` for a DM, ``slack:<team>:<channel>:<thread_ts>`` for a thread.
They fit the REST channel's sender pattern, so tracker and history endpoints work on them.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "slack:"


@dataclass(frozen=True)
class SlackPlace:
    team: str
    channel: str
    thread_ts: str | None = None

    @property
    def is_dm(self) -> bool:
        return is_dm_channel(self.channel)

    @property
    def sender_id(self) -> str:
        base = f"{PREFIX}{self.team}:{self.channel}"
        return base if self.thread_ts is None else f"{base}:{self.thread_ts}"


def is_dm_channel(channel: str) -> bool:
    # Slack's direct-message channel ids start with D; public C..., private G...
    return channel.startswith("D")


def is_slack_sender(sender_id: str) -> bool:
    return sender_id.startswith(PREFIX)


def parse_sender(sender_id: str) -> SlackPlace | None:
    if not is_slack_sender(sender_id):
        return None
    parts = sender_id[len(PREFIX):].split(":")
    if len(parts) == 2 and all(parts):
        return SlackPlace(team=parts[0], channel=parts[1])
    if len(parts) == 3 and all(parts):
        return SlackPlace(team=parts[0], channel=parts[1], thread_ts=parts[2])
    return None


def place_for(*, team: str, channel: str, ts: str | None = None, thread_ts: str | None = None) -> SlackPlace:
    """A DM is one conversation; elsewhere the thread (or the message that starts it) is."""
    if is_dm_channel(channel):
        return SlackPlace(team=team, channel=channel)
    root = thread_ts or ts
    return SlackPlace(team=team, channel=channel, thread_ts=root)
