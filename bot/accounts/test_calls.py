"""Test calls through Twilio (or, in development without credentials, the phone simulator).

Flow: ``place`` dials the account's primary number with answering-machine detection; the
TwiML webhooks (bot/telephony/views.py) report each step back here. No answer, busy,
failure or voicemail on the primary moves on to the secondary number, as the portal does.
A final outcome is stored, audited, and pushed into the user's conversation as the intent
``EXTERNAL_test_call_outcome`` through the conversation bus. The calls themselves are placed
by a ``CallBackend`` (bot/services/phone_calls.py: Twilio or the simulator).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.accounts import audit
from bot.accounts.directory import Directory
from bot.accounts.models import TestCall, utc
from bot.accounts.phones import display
from bot.config import Settings
from bot.errors import BadRequest, RateLimited, ServiceUnavailable
from bot.services.clock import Clock
from bot.services.conversation_bus import ConversationBus
from bot.services.phone_calls import (DEV_FROM_NUMBER, CallBackend, CallRefused,
                                      SimulatedTwilio, TwilioBackend)
from bot.services.redis_limits import Limits, LocalLimits  # issue 7
from bot.storage.db import session_scope

log = logging.getLogger(__name__)
PER_HOUR = 3
OUTCOMES = ("confirmed", "hash_not_pressed", "no_input_timeout", "call_disconnected",
            "no_call_received", "voicemail")
_UNANSWERED = {"no-answer", "busy", "failed", "canceled"}


@dataclass(frozen=True)
class PlacedCall:
    call_id: str
    to_masked: str
    has_secondary: bool
    calls_left: int


@dataclass(frozen=True)
class FinalOutcome:
    call_id: str
    sender_id: str
    outcome: str
    purpose: str


class TestCallService:
    __test__ = False  # not a pytest class
    limits: Limits = LocalLimits()  # issue 7: replaced by the shared (Redis) gate when configured

    def __init__(
        self, *, sessions: sessionmaker[Session], directory: Directory, clock: Clock,
        bus: ConversationBus, backend: CallBackend | None, from_number: str, public_base: str,
        per_hour: int = PER_HOUR,
    ) -> None:
        self._sessions, self._directory, self._clock, self._bus = sessions, directory, clock, bus
        self.backend, self._from, self._per_hour = backend, from_number, per_hour
        self.public_base = public_base.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings, *, sessions: sessionmaker[Session], directory: Directory,
                      clock: Clock, bus: ConversationBus) -> "TestCallService":
        backend: CallBackend | None = None
        if settings.twilio_account_sid and settings.twilio_auth_token:
            backend = TwilioBackend(account_sid=settings.twilio_account_sid,
                                    auth_token=settings.twilio_auth_token, base_url=settings.twilio_base_url)
        elif settings.development:
            backend = SimulatedTwilio(clock=clock, auth_token=settings.twilio_auth_token)
        base = settings.public_url or f"http://{settings.host}:{settings.port}"
        return cls(sessions=sessions, directory=directory, clock=clock, bus=bus, backend=backend,
                   from_number=settings.twilio_from_number or DEV_FROM_NUMBER, public_base=base)

    @property
    def auth_token(self) -> str | None:
        return self.backend.auth_token if self.backend else None

    @property
    def simulator(self) -> SimulatedTwilio | None:
        return self.backend if isinstance(self.backend, SimulatedTwilio) else None

    def url(self, path: str) -> str:
        return self.public_base + path

    def retry_after(self, *, ncid: str) -> int:
        """Seconds until the next test call is allowed (0 when one is allowed now)."""
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            recent = _recent(session, ncid, now)
        if len(recent) < self._per_hour:
            return 0
        return int((utc(recent[0]) + timedelta(hours=1) - now).total_seconds())

    async def place(
        self, *, ncid: str, sender_id: str, channel: str = "rest", purpose: str = "test",
        new_primary: str | None = None, new_secondary: str | None = None,
    ) -> PlacedCall:
        """Call the account's own numbers (or, for a phone change, the new primary only)."""
        if self.backend is None:
            raise ServiceUnavailable("test calls are not configured (no Twilio credentials)")
        account = self._directory.lookup(ncid)
        pending = None
        if purpose == "change_phone" and new_primary:
            numbers = [new_primary]
            pending = {"primary": new_primary, "secondary": new_secondary}
        else:
            numbers = [n for n in (account.primary_phone, account.secondary_phone) if n] if account else []
        if not numbers:
            raise BadRequest("no phone numbers on file")
        now = self._clock.now()
        # --- issue 7: an atomic gate shared by every worker, before the SQL count ---
        gate = self.limits.admit(f"test_call:{ncid}", limit=self._per_hour, window_seconds=3600, now=now)
        with session_scope(self._sessions) as session:
            recent = _recent(session, ncid, now)
            if len(recent) >= self._per_hour or gate is not None:
                retry = (int((utc(recent[0]) + timedelta(hours=1) - now).total_seconds())
                         if len(recent) >= self._per_hour else gate or 60)
                audit.record(session, at=now, ncid=ncid, actor=sender_id, action="test_call",
                             channel=channel, outcome="rate_limited")
                session.commit()
                raise RateLimited("too many test calls", retry_after=retry)
            call = TestCall(id=uuid.uuid4().hex, ncid=ncid, sender_id=sender_id, channel=channel,
                            purpose=purpose, numbers=numbers, pending=pending, leg=0, status="queued",
                            answered=False, created_at=now)
            session.add(call)
            audit.record(session, at=now, ncid=ncid, actor=sender_id, action="test_call", channel=channel,
                         outcome="placed", detail={"to": display(numbers[0]), "purpose": purpose})
            call_id = call.id
        await self._dial(call_id)
        return PlacedCall(call_id=call_id, to_masked=display(numbers[0]), has_secondary=len(numbers) > 1,
                          calls_left=self._per_hour - len(recent) - 1)

    async def _dial(self, call_id: str) -> FinalOutcome | None:
        assert self.backend is not None
        with session_scope(self._sessions) as session:
            call = session.get(TestCall, call_id)
            assert call is not None
            to, leg = call.numbers[call.leg], call.leg
        query = f"?call={call_id}&leg={leg}"
        try:
            sid = await asyncio.to_thread(
                self.backend.create_call, to=to, from_=self._from, url=self.url("/twilio/voice" + query),
                status_callback=self.url("/twilio/status" + query),
            )
        except CallRefused as exc:
            log.warning("Twilio refused a test call (status %s)", exc.status)
            return await self._leg_failed(call_id, leg, "failed")
        with session_scope(self._sessions) as session:
            call = session.get(TestCall, call_id)
            assert call is not None
            call.call_sid = sid
        return None

    # --- webhooks (already signature-checked by the views) ------------------------------
    def on_voice(self, *, call_id: str, leg: int, params: dict[str, str]) -> str:
        """What the answered call should do: "gather" (ask for #) or "hangup"."""
        answered_by = params.get("AnsweredBy", "")
        with session_scope(self._sessions) as session:
            call = _current(session, call_id, leg)
            if call is None:
                return "hangup"
            if answered_by.startswith("machine") or answered_by == "fax":
                call.status = "voicemail"  # never confirms; the completed callback fails over
                return "hangup"
            call.answered, call.status = True, "in-progress"
            return "gather"

    def on_amd(self, *, call_id: str, leg: int, params: dict[str, str]) -> None:
        answered_by = params.get("AnsweredBy", "")
        if answered_by.startswith("machine") or answered_by == "fax":
            with session_scope(self._sessions) as session:
                call = _current(session, call_id, leg)
                if call is not None:
                    call.status = "voicemail"

    def on_gather(self, *, call_id: str, leg: int, params: dict[str, str]) -> FinalOutcome | None:
        digits = params.get("Digits", "")
        outcome = "confirmed" if digits == "#" else "hash_not_pressed" if digits else "no_input_timeout"
        with session_scope(self._sessions) as session:
            call = _current(session, call_id, leg)
            if call is None or call.status == "voicemail":
                return None
        return self._finish(call_id, outcome)

    async def on_status(self, *, call_id: str, leg: int, params: dict[str, str]) -> FinalOutcome | None:
        status = params.get("CallStatus", "")
        with session_scope(self._sessions) as session:
            call = _current(session, call_id, leg)
            if call is None:
                return None
            if status in _UNANSWERED:
                reason = status
            elif status == "completed":
                reason = "voicemail" if call.status == "voicemail" else "answered" if call.answered else "no-answer"
            else:
                if call.status != "voicemail":
                    call.status = status or call.status
                return None
        if reason == "answered":
            return self._finish(call_id, "call_disconnected")  # hung up before any input
        return await self._leg_failed(call_id, leg, reason)

    async def _leg_failed(self, call_id: str, leg: int, reason: str) -> FinalOutcome | None:
        with session_scope(self._sessions) as session:
            call = _current(session, call_id, leg)
            if call is None:
                return None
            if call.leg + 1 < len(call.numbers):
                call.leg, call.status, call.answered, call.call_sid = call.leg + 1, "queued", False, None
                audit.record(session, at=self._clock.now(), ncid=call.ncid, actor="twilio",
                             action="test_call_failover", channel=call.channel, outcome=reason)
                failover = True
            else:
                failover = False
        if failover:
            return await self._dial(call_id)
        return self._finish(call_id, "voicemail" if reason == "voicemail" else "no_call_received")

    def _finish(self, call_id: str, outcome: str) -> FinalOutcome | None:
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            call = session.get(TestCall, call_id)
            if call is None or call.outcome is not None:
                return None  # a late or repeated callback changes nothing
            call.outcome, call.status, call.finished_at = outcome, "completed", now
            final = FinalOutcome(call_id=call.id, sender_id=call.sender_id, outcome=outcome, purpose=call.purpose)
            pending, ncid, channel = call.pending, call.ncid, call.channel
            audit.record(session, at=now, ncid=ncid, actor="twilio", action="test_call", channel=channel,
                         outcome=outcome, detail={"purpose": call.purpose})
        if final.purpose == "change_phone" and outcome == "confirmed" and pending:
            self._directory.set_phones(ncid, primary=pending["primary"], secondary=pending.get("secondary"), at=now)
            with session_scope(self._sessions) as session:
                audit.record(session, at=now, ncid=ncid, actor="twilio", action="change_phone",
                             channel=channel, outcome="saved")
        return final

    async def publish(self, final: FinalOutcome) -> None:
        """Push the outcome into the conversation that asked for the call."""
        try:
            await self._bus.trigger(
                sender_id=final.sender_id, intent="EXTERNAL_test_call_outcome",
                entities={"call_outcome": final.outcome, "call_purpose": final.purpose, "call_id": final.call_id},
            )
        except RuntimeError:
            log.warning("test call %s finished (%s) but no assistant is connected", final.call_id, final.outcome)

    def get(self, call_id: str) -> TestCall | None:
        with session_scope(self._sessions) as session:
            return session.get(TestCall, call_id)


def _recent(session: Session, ncid: str, now: datetime) -> list[datetime]:
    return list(session.scalars(
        select(TestCall.created_at).where(TestCall.ncid == ncid, TestCall.created_at > now - timedelta(hours=1))
        .order_by(TestCall.created_at)
    ))


def _current(session: Session, call_id: str, leg: int) -> TestCall | None:
    """The call, if this callback is for its current leg and it has no outcome yet."""
    call = session.get(TestCall, call_id)
    if call is None or call.outcome is not None or call.leg != leg:
        return None
    return call
