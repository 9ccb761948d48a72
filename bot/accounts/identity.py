"""Identity check: the NCID plus two of its four security answers, chosen at random.

- Unknown NCIDs get decoy questions (stable per NCID) and always fail, and they count and
  lock exactly like real ones, so the two cases look the same.
- Failures are counted per NCID across conversations; only a success resets the count.
  Five failures lock the NCID for 15 minutes, and every further failure locks it again.
- The pair of questions is kept until a success, so restarting cannot re-roll them.
- Answers are checked as they arrive; only the pass/fail result is kept, server-side.
- A success verifies this conversation (sender id) only, for ``verified_minutes``, and only
  for the channel session that passed it (issue 14): the web widget's conversation
  credential, the Slack user, the API client, or an anonymous REST client's address. A turn
  started by the system (trigger_intent) has no session, so it is never verified.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.accounts import audit
from bot.accounts.directory import Directory, normalize_ncid
from bot.accounts.models import IdentityCheck, IdentityLockout, utc
from bot.services.clock import Clock
from bot.services.redis_limits import Limits, LocalLimits  # issue 7
from bot.storage.db import session_scope

MAX_FAILURES = 5
LOCK_MINUTES = 15
VERIFIED_MINUTES = 15
# The portal's drop-down list; decoys for unknown NCIDs come from the same list.
QUESTION_CHOICES = (
    "What is the name of the street you grew up on?",
    "What was the name of your first pet?",
    "In what city were you born?",
    "What was the make of your first car?",
    "What is your mother's maiden name?",
    "What was the name of your elementary school?",
    "What is your favorite movie?",
    "What was your childhood nickname?",
)


def session_key(session: str | None) -> str | None:
    """What is stored for a channel session: a digest, so the table names no address."""
    if not session:
        return None
    return hashlib.sha256(f"identity-session:{session}".encode()).hexdigest()[:64]


@dataclass(frozen=True)
class Challenge:
    ncid: str
    questions: tuple[str, str]


@dataclass(frozen=True)
class Locked:
    retry_after: int  # seconds

    @property
    def minutes(self) -> int:
        return max(1, -(-self.retry_after // 60))


@dataclass(frozen=True)
class Verified:
    ncid: str
    until: datetime


@dataclass(frozen=True)
class Failed:
    remaining: int  # attempts before the lock


class IdentityService:
    limits: Limits = LocalLimits()  # issue 7: replaced by the shared (Redis) counter when configured

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        directory: Directory,
        clock: Clock,
        rng: random.Random | None = None,
        verified_minutes: int = VERIFIED_MINUTES,
    ) -> None:
        self._sessions = sessions
        self._directory = directory
        self._clock = clock
        self.rng = rng or random.SystemRandom()  # replaceable: tests fix the question order
        self._verified = timedelta(minutes=verified_minutes)

    def begin(self, *, sender_id: str, ncid_text: str, channel: str = "rest") -> Challenge | Locked | None:
        """Start a check; None when the text cannot be an NCID."""
        ncid = normalize_ncid(ncid_text)
        if ncid is None:
            return None
        now = self._clock.now()
        account = self._directory.lookup(ncid)
        real = dict(account.questions) if account and len(account.questions) >= 2 else None
        with session_scope(self._sessions) as session:
            lock = _lockout(session, ncid, now)
            if lock.locked_until and utc(lock.locked_until) > now:
                audit.record(session, at=now, ncid=ncid, actor=sender_id, action="identity_check",
                             channel=channel, outcome="locked")
                return Locked(int((utc(lock.locked_until) - now).total_seconds()))
            if real is None:
                positions, texts = _decoy(ncid)
            else:
                if not lock.positions or any(p not in real for p in lock.positions):
                    lock.positions = sorted(self.rng.sample(sorted(real), 2))
                positions = list(lock.positions)
                texts = [real[p] for p in positions]
            lock.updated_at = now
            check = session.get(IdentityCheck, sender_id) or IdentityCheck(sender_id=sender_id)
            check.ncid, check.positions, check.results = ncid, positions, []
            check.started_at, check.verified_until = now, None
            session.merge(check)
        return Challenge(ncid=ncid, questions=(texts[0], texts[1]))

    def answer(self, *, sender_id: str, index: int, text: str) -> None:
        """Check answer ``index`` (0 or 1) now; keep only whether it matched."""
        with session_scope(self._sessions) as session:
            check = session.get(IdentityCheck, sender_id)
            if check is None or index >= len(check.positions):
                return
            ok = self._directory.check_answer(check.ncid, check.positions[index], text)
            results = list(check.results) + [False] * (index + 1 - len(check.results))
            results[index] = ok
            check.results = results

    def complete(self, *, sender_id: str, session: str | None, channel: str = "rest") -> Verified | Failed | Locked:
        now = self._clock.now()
        key = session_key(session)
        with session_scope(self._sessions) as db:
            check = db.get(IdentityCheck, sender_id)
            if check is None:
                return Failed(remaining=MAX_FAILURES)
            lock = _lockout(db, check.ncid, now)
            if lock.locked_until and utc(lock.locked_until) > now:
                db.delete(check)
                audit.record(db, at=now, ncid=check.ncid, actor=sender_id,
                             action="identity_check", channel=channel, outcome="locked")
                return Locked(int((utc(lock.locked_until) - now).total_seconds()))
            passed = len(check.results) == 2 and all(check.results) and key is not None
            lock.updated_at = now
            if passed:
                self.limits.clear(f"identity:{check.ncid}")  # issue 7
                lock.failures, lock.positions, lock.locked_until = 0, None, None
                check.results, check.verified_until = [], now + self._verified
                check.session_key = key
                audit.record(db, at=now, ncid=check.ncid, actor=sender_id,
                             action="identity_check", channel=channel, outcome="verified")
                return Verified(ncid=check.ncid, until=now + self._verified)
            # --- issue 7: concurrent failures on several workers are all counted ---
            shared = self.limits.count_failure(f"identity:{check.ncid}", window_seconds=LOCK_MINUTES * 60)
            lock.failures = max(lock.failures + 1, shared)
            db.delete(check)
            if lock.failures >= MAX_FAILURES:
                lock.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                audit.record(db, at=now, ncid=check.ncid, actor=sender_id,
                             action="identity_check", channel=channel, outcome="failed_locked")
                return Locked(LOCK_MINUTES * 60)
            audit.record(db, at=now, ncid=check.ncid, actor=sender_id,
                         action="identity_check", channel=channel, outcome="failed",
                         detail={"failures": lock.failures})
            return Failed(remaining=MAX_FAILURES - lock.failures)

    @property
    def verified_minutes(self) -> int:
        return int(self._verified.total_seconds() // 60)

    def verified_ncid(self, *, sender_id: str, session: str | None) -> str | None:
        """The NCID this conversation verified in this channel session, while it lasts."""
        key = session_key(session)
        if key is None:
            return None
        now = self._clock.now()
        with session_scope(self._sessions) as db:
            check = db.get(IdentityCheck, sender_id)
            if check is None or check.verified_until is None or utc(check.verified_until) <= now:
                return None
            if check.session_key is None or not hmac.compare_digest(check.session_key, key):
                return None
            return check.ncid

    def verify_session(self, *, sender_id: str, ncid: str, session: str, channel: str, outcome: str) -> bool:
        """Marks a conversation verified for ``ncid`` in ``session`` without questions, for a
        channel that authenticated the person itself (a linked Slack user). False when it
        already was."""
        now = self._clock.now()
        key = session_key(session)
        with session_scope(self._sessions) as db:
            check = db.get(IdentityCheck, sender_id)
            if check is not None and check.verified_until is not None and utc(check.verified_until) > now \
                    and check.ncid == ncid and check.session_key == key:
                return False
            if check is None:
                check = IdentityCheck(sender_id=sender_id, ncid=ncid, positions=[], results=[], started_at=now)
                db.add(check)
            check.ncid, check.results, check.session_key = ncid, [], key
            check.verified_until = now + self._verified
            audit.record(db, at=now, ncid=ncid, actor=sender_id, action="identity_check",
                         channel=channel, outcome=outcome)
            return True

    def forget(self, *, sender_id: str) -> None:
        with session_scope(self._sessions) as session:
            check = session.get(IdentityCheck, sender_id)
            if check is not None:
                session.delete(check)


def _lockout(session: Session, ncid: str, now: datetime) -> IdentityLockout:
    lock = session.get(IdentityLockout, ncid)
    if lock is None:
        lock = IdentityLockout(ncid=ncid, failures=0, updated_at=now)
        session.add(lock)
    return lock


def _decoy(ncid: str) -> tuple[list[int], list[str]]:
    seeded = random.Random(hashlib.sha256(ncid.encode()).digest())
    texts = seeded.sample(QUESTION_CHOICES, 2)
    return [1, 2], texts
