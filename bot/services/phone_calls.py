"""Placing phone calls: Twilio's REST client, or in development the phone simulator.

The vendor side of test calls only; what a test call is (which numbers, how often, what an
outcome means) lives in bot/accounts/test_calls.py, which talks to a ``CallBackend``.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests  # issue 7: the twilio client's transport
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.services.clock import Clock

RING_SECONDS = 30
DEV_ACCOUNT_SID = "AC" + "0" * 32
TWILIO_TIMEOUT_SECONDS = 10.0  # issue 7
DEV_FROM_NUMBER = "+18006886696"


class RewritingHttpClient(TwilioHttpClient):
    """Sends every *.twilio.com request to ``base_url`` instead (a fake server in tests)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        quiet = logging.getLogger("bot.twilio_http")  # twilio logs request bodies at INFO
        quiet.setLevel(logging.WARNING)
        super().__init__(logger=quiet, **kwargs)
        self._base = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        if parts.hostname and (parts.hostname == "twilio.com" or parts.hostname.endswith(".twilio.com")):
            url = self._base + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, url, *args, **kwargs)


class CallRefused(Exception):
    """The provider did not place the call (refused, timed out, reset): the leg has failed."""

    def __init__(self, status: object) -> None:
        # The provider's message can echo the number; keep the status only.
        super().__init__(f"call refused (status {status})")
        self.status = status


class CallBackend(Protocol):
    auth_token: str

    def create_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str: ...


class TwilioBackend:
    def __init__(self, *, account_sid: str, auth_token: str, base_url: str | None = None) -> None:
        self.auth_token = auth_token
        # issue 7: a timeout, so a Twilio that hangs fails the leg instead of holding the turn forever
        self.http_client = RewritingHttpClient(base_url or "https://api.twilio.com", pool_connections=False,
                                               timeout=TWILIO_TIMEOUT_SECONDS)
        self._client = Client(account_sid, auth_token, http_client=self.http_client)

    def create_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str:
        try:
            call = self._client.calls.create(
                to=to, from_=from_, url=url, method="POST",
                status_callback=status_callback, status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                machine_detection="Enable", timeout=RING_SECONDS,
            )
        except (TwilioException, requests.RequestException) as exc:  # issue 7: timeouts, resets too
            raise CallRefused(getattr(exc, "status", type(exc).__name__)) from exc
        return str(call.sid)


@dataclass
class SimCall:
    sid: str
    to: str
    from_: str
    url: str
    status_callback: str
    created_at: datetime
    state: str = "ringing"  # ringing, in-progress, ended
    say: tuple[str, ...] = ()
    gather_url: str | None = None


class SimulatedTwilio:
    """Plays Twilio's part for /dev/phone: holds the calls; the page drives the webhooks."""

    def __init__(self, *, clock: Clock, auth_token: str | None = None) -> None:
        self.account_sid = DEV_ACCOUNT_SID
        # Issue 14: generated for each process (never a constant in the source), so forging a
        # signed "confirmed" webhook takes more than reading the code.
        self.auth_token = auth_token or secrets.token_urlsafe(32)
        self._clock = clock
        self.calls: dict[str, SimCall] = {}

    def create_call(self, *, to: str, from_: str, url: str, status_callback: str) -> str:
        sid = "CA" + uuid.uuid4().hex
        self.calls[sid] = SimCall(sid=sid, to=to, from_=from_, url=url,
                                  status_callback=status_callback, created_at=self._clock.now())
        return sid

    def active(self) -> list[SimCall]:
        return [c for c in self.calls.values() if c.state != "ended"]
