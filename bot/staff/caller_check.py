"""Agent assist's identity check of a caller: the agent types the caller's NCID, the system
picks two of the account's security questions, the agent types the caller's answers, and the
system checks them against the argon2 hashes.

It is the chat's own check (bot/accounts/identity.py): the same question choice, the same
decoys for unknown NCIDs, the same failure count and lockout per NCID, shared with the chat
(five wrong pairs anywhere lock the NCID for 15 minutes). What differs:

- the check belongs to the agent, under a key no chat conversation can have (a REST or
  Slack sender id never holds "/"), so a chat user can never borrow an agent's verification;
- it verifies one caller (NCID) at a time, for ``staff.assist_verified_minutes`` (config.yml);
- every outcome is audited twice: ``identity_check`` (by the identity service, actor
  ``assist/staff:<username>``) and ``caller_verified`` (actor ``staff:<username>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.accounts.directory import normalize_ncid
from bot.accounts.identity import Challenge, Failed, IdentityService, Locked, Verified
from bot.errors import ConfigError
from bot.staff.service import StaffMember

CHANNEL = "staff"
DEFAULT_MINUTES = 10
MAX_MINUTES = 60


def verified_minutes(settings: Any) -> int:
    """``staff.assist_verified_minutes`` from config.yml: short, because the caller is on the
    phone now; at most an hour."""
    section = (getattr(settings, "raw", None) or {}).get("staff") or {}
    value = section.get("assist_verified_minutes", DEFAULT_MINUTES) if isinstance(section, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_MINUTES:
        raise ConfigError(f"staff.assist_verified_minutes must be a whole number from 1 to {MAX_MINUTES}")
    return value


def check_key(member: StaffMember) -> str:
    return f"assist/{member.actor}"


@dataclass(frozen=True)
class Questions:
    ncid: str
    questions: tuple[str, str]


@dataclass(frozen=True)
class Outcome:
    """What the page says: verified (until), wrong answers (tries left), locked (minutes),
    or the questions changed in between (nothing was counted)."""

    kind: str  # verified | failed | locked | changed | not_an_ncid
    ncid: str | None = None
    until: datetime | None = None
    remaining: int = 0
    minutes: int = 0
    questions: Questions | None = None


class CallerCheck:
    def __init__(self, *, services: Any) -> None:
        self._services = services
        self.minutes = verified_minutes(services.settings)

    def _identity(self) -> IdentityService:
        shared: IdentityService = self._services.accounts.identity
        identity = IdentityService(sessions=self._services.sessions, directory=self._services.accounts.directory,
                                   clock=self._services.clock, rng=shared.rng, verified_minutes=self.minutes)
        identity.limits = shared.limits  # the shared failure counter (Redis when configured)
        return identity

    def ask(self, *, member: StaffMember, ncid_text: str) -> Questions | Outcome:
        """The two questions to ask the caller, or why not (locked, not an NCID)."""
        started = self._begin(member, ncid_text)
        return started if isinstance(started, Outcome) else _questions(started)

    def verify(self, *, member: StaffMember, ncid_text: str, asked: tuple[str, str],
               answers: tuple[str, str]) -> Outcome:
        """Check the caller's answers to the questions the agent was shown (``asked``)."""
        identity = self._identity()
        key = check_key(member)
        started = self._begin(member, ncid_text)
        if isinstance(started, Outcome):
            return started
        if started.questions != asked:
            # The pair changed since the page was shown (the caller passed the chat's check in
            # between): ask again, and count nothing.
            return Outcome("changed", ncid=started.ncid, questions=_questions(started))
        for index, text in enumerate(answers):
            identity.answer(sender_id=key, index=index, text=text)
        # The check is bound to the agent who made it (issue 14: a passed check has an owner).
        result = identity.complete(sender_id=key, session=key, channel=CHANNEL)
        if isinstance(result, Verified):
            self._audit(member, result.ncid, "verified", until=result.until.isoformat())
            return Outcome("verified", ncid=result.ncid, until=result.until)
        if isinstance(result, Locked):
            self._audit(member, started.ncid, "failed_locked")
            return Outcome("locked", ncid=started.ncid, minutes=result.minutes)
        assert isinstance(result, Failed)
        self._audit(member, started.ncid, "failed", remaining=result.remaining)
        return Outcome("failed", ncid=started.ncid, remaining=result.remaining, questions=_questions(started))

    def verified(self, *, member: StaffMember, ncid: str | None) -> bool:
        """Is ``ncid`` the caller this agent verified, and is the verification still running?"""
        if not ncid:
            return False
        return self._identity().verified_ncid(sender_id=check_key(member), session=check_key(member)) == ncid

    def end(self, *, member: StaffMember) -> None:
        self._identity().forget(sender_id=check_key(member))

    def _begin(self, member: StaffMember, ncid_text: str) -> Challenge | Outcome:
        """The chat's own check started for this agent, or why it cannot start (audited when locked)."""
        started = self._identity().begin(sender_id=check_key(member), ncid_text=ncid_text, channel=CHANNEL)
        if started is None:
            return Outcome("not_an_ncid")
        if isinstance(started, Locked):
            ncid = normalize_ncid(ncid_text)
            self._audit(member, ncid, "locked")
            return Outcome("locked", ncid=ncid, minutes=started.minutes)
        return started

    def _audit(self, member: StaffMember, ncid: str | None, outcome: str, **detail: Any) -> None:
        self._services.accounts.audit(ncid=ncid, actor=member.actor, action="caller_verified", channel=CHANNEL,
                                      outcome=outcome, detail={"check": "security questions", **detail})


def _questions(challenge: Challenge) -> Questions:
    return Questions(ncid=challenge.ncid, questions=challenge.questions)
