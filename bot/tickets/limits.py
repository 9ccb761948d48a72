"""Issue 14: how many Contact Us tickets (and so acknowledgement emails) may be filed.

Three counters, all fixed windows in the shared throttle (Redis across workers): per
conversation, per client address and per recipient address each hour, so nobody can use the
form to send a stream of emails to one address. Every attempt counts,
including refused ones."""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.config import SecuritySettings
from bot.errors import RateLimited
from bot.services.redis_limits import Limits

HOUR = 3600


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]  # no address in Redis keys


def check_ticket_limits(*, throttle: Limits, security: SecuritySettings, now: datetime, sender_id: str | None,
                        client: str | None, email: str) -> None:
    """Raises RateLimited (with the longest wait) when any of the three limits is reached.
    A ticket filed by the system rather than from a conversation (no sender, no client) is
    not a Contact Us form and is not limited."""
    if not sender_id and not client:
        return
    checks = [(f"ticket:to:{_digest(email.strip().lower())}", security.tickets_per_recipient_per_hour, HOUR)]
    if sender_id:
        checks.append((f"ticket:conversation:{_digest(sender_id)}", security.tickets_per_conversation_per_hour, HOUR))
    if client:
        checks.append((f"ticket:client:{_digest(client)}", security.tickets_per_client_per_hour, HOUR))
    waits = [throttle.admit(key, limit=limit, window_seconds=window, now=now) for key, limit, window in checks]
    refused = [wait for wait in waits if wait is not None]
    if refused:
        raise RateLimited("too many tickets", retry_after=max(refused))
