"""Staff accounts and sign-in: argon2 passwords, a TOTP second factor, lockout, and
server-side sessions whose id travels in a signed cookie.

Sign-in is two steps on one session row: the password moves it to stage "password", a TOTP
code (or, at the first sign-in, enrolment of a new authenticator) to stage "full". Every
failure of either step counts toward the lockout; only a full sign-in resets the count.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.accounts.crypto import SecretBox
from bot.accounts.models import utc
from bot.errors import BadRequest
from bot.services.redis_limits import Limits, MemoryLimits
from bot.services.clock import Clock
from bot.staff.models import ROLES, StaffSession, StaffUser
from bot.storage.db import session_scope

ISSUER = "NCTracks Help Desk staff"
_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
_SIX_DIGITS = re.compile(r"\d{6}")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class StaffPolicy:
    idle_minutes: int = 30
    max_hours: int = 12
    second_factor_minutes: int = 5
    max_failures: int = 5
    lock_minutes: int = 15

    @classmethod
    def from_raw(cls, raw: dict[str, Any] | None) -> "StaffPolicy":
        from bot.errors import ConfigError

        values = {k: v for k, v in (raw or {}).items() if k in cls.__dataclass_fields__}
        try:
            policy = cls(**{k: int(v) for k, v in values.items()})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config staff section is invalid: {exc}") from exc
        if min(policy.idle_minutes, policy.max_hours, policy.max_failures, policy.lock_minutes) < 1:
            raise ConfigError("config staff values must be positive")
        return policy


@dataclass(frozen=True)
class StaffMember:
    """What a request knows about the signed-in person (no secrets)."""

    id: int
    username: str
    display_name: str
    role: str

    def has_role(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def actor(self) -> str:
        """The name written to the audit log and ticket history."""
        return f"staff:{self.username}"


@dataclass(frozen=True)
class CurrentSession:
    id: str
    stage: str
    csrf_token: str
    member: StaffMember
    enrolled: bool


@dataclass(frozen=True)
class SignInResult:
    ok: bool
    token: str | None = None  # cookie token (unsigned) when ok
    locked_minutes: int = 0


def normalize_username(text: str) -> str:
    return text.strip().lower()


def _member(user: StaffUser) -> StaffMember:
    return StaffMember(id=user.id, username=user.username, display_name=user.display_name, role=user.role)


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffService:
    def __init__(self, *, sessions: sessionmaker[Session], box: SecretBox, clock: Clock,
                 signing_key: bytes, hasher: PasswordHasher | None = None,
                 policy: StaffPolicy | None = None) -> None:
        self.sessions, self.box, self.clock = sessions, box, clock
        self.hasher = hasher or PasswordHasher()
        self.policy = policy or StaffPolicy()
        self._key = signing_key
        # Checked against for an unknown username too, so timing does not tell which exist.
        self._dummy: str | None = None
        # Issue 14: wrong passwords are counted per client address (all names) and per account
        # *and* address, never per account alone, so an outsider cannot lock a supervisor out;
        # the shared throttle (Redis across workers) when the console is built.
        self.throttle: Limits = MemoryLimits(clock=lambda: clock.now().timestamp())
        self.attempts_per_client = 20  # per 15 minutes; settings.security sets it

    # ------------------------------------------------------------------ accounts
    def add_user(self, *, username: str, display_name: str, role: str, password: str,
                 totp_secret: str | None = None) -> StaffMember:
        """Create a staff account. With ``totp_secret`` the authenticator is already enrolled
        (demo staff); otherwise it is enrolled at the first sign-in."""
        name = normalize_username(username)
        if not _USERNAME.fullmatch(name):
            raise BadRequest("username: 2-64 characters, a letter first, then letters, digits . _ -")
        if role not in ROLES:
            raise BadRequest(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise BadRequest(f"password must be at least {MIN_PASSWORD} characters")
        if not display_name.strip():
            raise BadRequest("display name is required")
        with session_scope(self.sessions) as session:
            if session.scalar(select(StaffUser.id).where(StaffUser.username == name)) is not None:
                raise BadRequest(f"staff user {name!r} already exists")
            user = StaffUser(
                username=name, display_name=display_name.strip()[:100], role=role,
                password_hash=self.hasher.hash(password),
                totp_secret=self.box.encrypt(totp_secret) if totp_secret else None,
                totp_enrolled=bool(totp_secret), failures=0, active=True, created_at=self.clock.now(),
            )
            session.add(user)
            session.flush()
            return _member(user)

    def list_users(self) -> list[tuple[StaffMember, bool, datetime | None]]:
        """(member, enrolled, locked_until) of active staff, for the admin page."""
        with session_scope(self.sessions) as session:
            users = session.scalars(select(StaffUser).where(StaffUser.active.is_(True))
                                    .order_by(StaffUser.username)).all()
            now = self.clock.now()
            return [(_member(u), u.totp_enrolled,
                     utc(u.locked_until) if u.locked_until and utc(u.locked_until) > now else None)
                    for u in users]

    def get(self, user_id: int) -> StaffMember | None:
        with session_scope(self.sessions) as session:
            user = session.get(StaffUser, user_id)
            return _member(user) if user is not None else None

    def by_username(self, username: str) -> StaffMember | None:
        with session_scope(self.sessions) as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == normalize_username(username)))
            return _member(user) if user is not None else None

    def unlock(self, *, user_id: int) -> None:
        with session_scope(self.sessions) as session:
            user = session.get(StaffUser, user_id)
            if user is not None:
                user.failures, user.locked_until = 0, None

    def set_active(self, *, user_id: int, active: bool) -> None:
        """Deactivated staff cannot sign in, and their open sessions end at once."""
        with session_scope(self.sessions) as session:
            user = session.get(StaffUser, user_id)
            if user is None:
                return
            user.active = active
            if not active:
                for row in session.scalars(select(StaffSession).where(StaffSession.user_id == user_id)):
                    row.revoked = True

    def reset_totp(self, *, user_id: int) -> None:
        """The next sign-in enrols a new authenticator; open sessions end."""
        with session_scope(self.sessions) as session:
            user = session.get(StaffUser, user_id)
            if user is not None:
                user.totp_secret, user.totp_enrolled, user.totp_last_step = None, False, None
                for row in session.scalars(select(StaffSession).where(StaffSession.user_id == user_id)):
                    row.revoked = True

    def current_totp(self, username: str) -> str | None:
        """The code an enrolled user's authenticator shows now (CLI, development only)."""
        with session_scope(self.sessions) as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == normalize_username(username)))
            if user is None or not user.totp_secret:
                return None
            return pyotp.TOTP(self.box.decrypt(user.totp_secret)).at(self.clock.now())

    # ------------------------------------------------------------------ sign-in
    def sign_in(self, *, username: str, password: str, client: str = "-") -> SignInResult:
        """Step one. Unknown names, wrong passwords, locks and throttles all look the same to
        the caller (issue 14: no "locked" answer that tells a real name from an unknown one).

        ``client`` is the caller's address: more than ``attempts_per_client`` tries from one
        address in 15 minutes, or ``max_failures`` wrong passwords for one account from one
        address, refuse that address for ``lock_minutes``; the account stays open to others.
        """
        now = self.clock.now()
        window = self.policy.lock_minutes * 60
        place = hashlib.sha256(f"staff-client:{client}".encode()).hexdigest()[:24]
        if self.throttle.admit(f"staff-login:{place}", limit=self.attempts_per_client, window_seconds=window,
                               now=now) is not None:
            return SignInResult(ok=False)
        with session_scope(self.sessions) as session:
            user = session.scalar(select(StaffUser).where(StaffUser.username == normalize_username(username)))
            if user is None or not user.active:
                if self._dummy is None:
                    self._dummy = self.hasher.hash(secrets.token_hex(16))
                self._verify(self._dummy, password)
                return SignInResult(ok=False)
            # Keyed by the window's index on the service clock, like Limits.admit: the count then
            # runs out with the service's time on every backend (a Redis TTL follows Redis's clock).
            pair = f"staff-failures:{user.id}:{place}:{int(now.timestamp() // window)}"
            if self.throttle.count_failure(pair, window_seconds=window) > self.policy.max_failures:
                return SignInResult(ok=False)  # this address guessed too often: refused, unchecked
            if user.locked_until and utc(user.locked_until) > now:
                return SignInResult(ok=False)  # (a lock from the second step, which needs the password)
            if not self._verify(user.password_hash, password):
                return SignInResult(ok=False)  # counted above, for this address only
            self.throttle.clear(pair)
            # Old rows go here rather than in a background job: sign-ins are rare and cheap.
            session.execute(delete(StaffSession).where(StaffSession.expires_at < now - timedelta(days=1)))
            token = secrets.token_urlsafe(32)
            session.add(StaffSession(
                id=_session_id(token), user_id=user.id, stage="password", csrf_token=secrets.token_urlsafe(24),
                created_at=now, last_seen_at=now,
                expires_at=now + timedelta(minutes=self.policy.second_factor_minutes), revoked=False,
            ))
            return SignInResult(ok=True, token=token)

    def enrollment(self, *, session_id: str) -> tuple[str, str, str]:
        """(secret grouped for typing, otpauth URI, QR SVG data URI) for a user without an
        authenticator; the secret is kept (encrypted) until a first code confirms it."""
        with session_scope(self.sessions) as session:
            row = session.get(StaffSession, session_id)
            user = session.get(StaffUser, row.user_id) if row else None
            if row is None or user is None or row.stage != "password" or user.totp_enrolled:
                raise BadRequest("no enrolment in progress")
            if not user.totp_secret:
                user.totp_secret = self.box.encrypt(pyotp.random_base32())
            secret = self.box.decrypt(user.totp_secret)
            uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
        grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        return grouped, uri, segno.make(uri, error="m").svg_data_uri(scale=4)

    def second_factor(self, *, session_id: str, code: str) -> SignInResult:
        """Step two: a code from the authenticator (±1 time step, each step accepted once)."""
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            row = session.get(StaffSession, session_id)
            user = session.get(StaffUser, row.user_id) if row else None
            if row is None or user is None or row.stage != "password" or row.revoked \
                    or utc(row.expires_at) <= now or not user.totp_secret:
                return SignInResult(ok=False)
            if user.locked_until and utc(user.locked_until) > now:
                row.revoked = True
                return SignInResult(ok=False, locked_minutes=_minutes(utc(user.locked_until) - now))
            step = _matching_step(self.box.decrypt(user.totp_secret), code.replace(" ", ""), now)
            if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
                result = self._failed(user, now)
                if result.locked_minutes:
                    row.revoked = True
                return result
            user.totp_last_step, user.totp_enrolled = step, True
            user.failures, user.locked_until, user.last_login_at = 0, None, now
            # A new id at the privilege change: a token seen before sign-in is worth nothing after.
            row.revoked = True
            token = secrets.token_urlsafe(32)
            session.add(StaffSession(
                id=_session_id(token), user_id=user.id, stage="full", csrf_token=secrets.token_urlsafe(24),
                created_at=now, last_seen_at=now, expires_at=now + timedelta(hours=self.policy.max_hours),
                revoked=False,
            ))
            return SignInResult(ok=True, token=token)

    def _failed(self, user: StaffUser, now: datetime) -> SignInResult:
        user.failures += 1
        if user.failures >= self.policy.max_failures:
            user.locked_until = now + timedelta(minutes=self.policy.lock_minutes)
            return SignInResult(ok=False, locked_minutes=self.policy.lock_minutes)
        return SignInResult(ok=False)

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    # ------------------------------------------------------------------ sessions
    def resolve(self, token: str) -> CurrentSession | None:
        """The live session behind a cookie token, touching its idle timer; None when it is
        unknown, revoked, past its absolute expiry or idle too long."""
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            row = session.get(StaffSession, _session_id(token))
            if row is None or row.revoked or utc(row.expires_at) <= now:
                return None
            if row.stage == "full" and now - utc(row.last_seen_at) > timedelta(minutes=self.policy.idle_minutes):
                row.revoked = True
                return None
            user = session.get(StaffUser, row.user_id)
            if user is None or not user.active:
                return None
            row.last_seen_at = now
            return CurrentSession(id=row.id, stage=row.stage, csrf_token=row.csrf_token,
                                  member=_member(user), enrolled=user.totp_enrolled)

    def sign_out(self, *, session_id: str) -> None:
        with session_scope(self.sessions) as session:
            row = session.get(StaffSession, session_id)
            if row is not None:
                row.revoked = True

    # ------------------------------------------------------------------ cookie signing
    def sign(self, token: str) -> str:
        return f"{token}.{self._mac(token)}"

    def unsign(self, value: str) -> str | None:
        token, _, mac = value.rpartition(".")
        if not token or not hmac.compare_digest(mac.encode(), self._mac(token).encode()):
            return None
        return token

    def _mac(self, token: str) -> str:
        digest = hmac.new(self._key, token.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    if not _SIX_DIGITS.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _minutes(delta: timedelta) -> int:
    return max(1, -(-int(delta.total_seconds()) // 60))


def inactive_usernames(sessions: sessionmaker[Session]) -> list[tuple[int, str]]:
    with session_scope(sessions) as session:
        return [(u.id, u.username) for u in session.scalars(
            select(StaffUser).where(StaffUser.active.is_(False)).order_by(StaffUser.username))]
