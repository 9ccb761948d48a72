"""AccountService: the one object actions use for the directory, identity checks,
registration status and activation codes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from bot.accounts import audit
from bot.accounts.activation import ActivationService
from bot.accounts.crypto import SecretBox, secret_box
from bot.accounts.directory import Directory, SqlDirectory, normalize_ncid
from bot.accounts.identity import IdentityService
from bot.accounts.models import STATE_DISABLED, STATE_REGISTERED, utc
from bot.config import SecuritySettings
from bot.errors import ConfigError
from bot.services.redis_limits import Limits, MemoryLimits
from bot.services.clock import Clock
from bot.storage.db import session_scope

if TYPE_CHECKING:
    from bot.config import Settings

NEW_NCID_WAIT = timedelta(minutes=60)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class RegistrationStatus:
    kind: str  # invalid, too_new, not_registered (also: unknown NCID), disabled, registered
    minutes_left: int = 0
    method: str | None = None


class AccountService:
    def __init__(
        self, *, sessions: sessionmaker[Session], directory: Directory, box: SecretBox, clock: Clock,
        identity: IdentityService | None = None, security: "SecuritySettings | None" = None,
    ) -> None:
        self.sessions, self.directory, self.box, self.clock = sessions, directory, box, clock
        self.identity = identity or IdentityService(sessions=sessions, directory=directory, clock=clock)
        self.activation = ActivationService(sessions=sessions, directory=directory, box=box, clock=clock)
        # Issue 14: registration-status look-ups are throttled (the shared throttle when attached).
        self.security = security or SecuritySettings()
        self.throttle: Limits = MemoryLimits(clock=lambda: clock.now().timestamp())

    def admit_status_check(self, *, sender_id: str, client: str | None) -> int | None:
        """None when another registration-status look-up may run, else seconds to wait."""
        now = self.clock.now()
        checks = [(f"status:conversation:{_digest(sender_id)}", self.security.status_checks_per_conversation_per_hour)]
        if client:
            checks.append((f"status:client:{_digest(client)}", self.security.status_checks_per_client_per_hour))
        waits = [self.throttle.admit(key, limit=limit, window_seconds=3600, now=now) for key, limit in checks]
        refused = [wait for wait in waits if wait is not None]
        return max(refused) if refused else None

    def registration_status(self, *, ncid_text: str, sender_id: str, channel: str = "rest") -> RegistrationStatus:
        ncid = normalize_ncid(ncid_text)
        if ncid is None:
            return RegistrationStatus("invalid")
        now = self.clock.now()
        account = self.directory.lookup(ncid)
        if account is None:
            status = RegistrationStatus("not_registered")
        elif utc(account.ncid_created_at) + NEW_NCID_WAIT > now:
            left = utc(account.ncid_created_at) + NEW_NCID_WAIT - now
            status = RegistrationStatus("too_new", minutes_left=max(1, -(-int(left.total_seconds()) // 60)))
        elif account.state == STATE_DISABLED:
            status = RegistrationStatus("disabled")
        elif account.state == STATE_REGISTERED:
            status = RegistrationStatus("registered", method=account.method)
        else:
            status = RegistrationStatus("not_registered")
        self.audit(ncid=ncid, actor=sender_id, action="registration_status", channel=channel,
                   outcome=status.kind)
        return status

    def audit(self, *, ncid: str | None, actor: str, action: str, outcome: str, channel: str = "rest",
              detail: dict[str, object] | None = None) -> None:
        with session_scope(self.sessions) as session:
            audit.record(session, at=self.clock.now(), ncid=ncid, actor=actor, action=action,
                         channel=channel, outcome=outcome, detail=detail)


def build_account_service(
    settings: "Settings", *, sessions: sessionmaker[Session], clock: Clock, hasher: PasswordHasher | None = None,
) -> AccountService:
    """The directory (secrets sealed with the configured key) and the account service over it."""
    box = secret_box(settings)
    directory = SqlDirectory(sessions=sessions, box=box, hasher=hasher or _hasher(settings))
    # Issue 14: a passed identity check lasts the configured minutes, for the session that passed it.
    identity = IdentityService(sessions=sessions, directory=directory, clock=clock,
                               verified_minutes=settings.security.identity_verified_minutes)
    return AccountService(sessions=sessions, directory=directory, box=box, clock=clock, identity=identity,
                          security=settings.security)


_ARGON2_KNOBS = frozenset({"time_cost", "memory_cost", "parallelism", "hash_len", "salt_len"})


def _hasher(settings: "Settings") -> PasswordHasher | None:
    """config.yml ``accounts.argon2`` (time_cost, memory_cost, parallelism) tunes hashing;
    tests use a cheap profile, production keeps argon2-cffi's defaults."""
    section = (settings.raw.get("accounts") or {}).get("argon2") or {}
    if not section:
        return None
    unknown = set(section) - _ARGON2_KNOBS
    if unknown:
        raise ConfigError(f"config accounts.argon2 is invalid: unknown {', '.join(sorted(unknown))}")
    try:
        knobs: dict[str, int] = {k: int(v) for k, v in section.items()}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config accounts.argon2 is invalid: {exc}") from exc
    if any(value < 1 for value in knobs.values()):
        raise ConfigError("config accounts.argon2 is invalid: every setting must be a positive whole number")
    return PasswordHasher(**knobs)  # type: ignore[arg-type]  # only the int knobs named above
