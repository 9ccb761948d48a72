"""The MFA directory behind a small interface, so a deployment can plug in its own system
of record later. ``SqlDirectory`` keeps it in our database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.accounts.crypto import SecretBox
from bot.accounts.models import (
    METHODS, STATE_REGISTERED, STATES, Account, SecurityAnswer, utc,
)
from bot.errors import BadRequest
from bot.storage.db import session_scope

_NCID = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


def normalize_ncid(text: str) -> str | None:
    """Lower-case, trimmed NCID, or None when it cannot be one."""
    value = text.strip().lower()
    return value if _NCID.fullmatch(value) else None


def normalize_answer(text: str) -> str:
    """Answers compare ignoring case and spacing: "  New  York " == "new york"."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class AccountInfo:
    ncid: str
    first_name: str
    last_name: str
    email: str | None
    ncid_created_at: datetime
    state: str
    method: str | None
    primary_phone: str | None
    secondary_phone: str | None
    questions: tuple[tuple[int, str], ...]  # (position, question text)


@dataclass(frozen=True)
class NewAccount:
    ncid: str
    first_name: str
    last_name: str
    ncid_created_at: datetime
    email: str | None = None
    state: str = "not_registered"
    method: str | None = None
    primary_phone: str | None = None
    secondary_phone: str | None = None
    security: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # (question, answer)


class Directory(Protocol):
    def lookup(self, ncid: str) -> AccountInfo | None: ...
    def check_answer(self, ncid: str, position: int, answer: str) -> bool: ...
    def set_phones(self, ncid: str, *, primary: str, secondary: str | None, at: datetime) -> None: ...
    def set_authenticator(self, ncid: str, *, secret: str, step: int, at: datetime) -> None: ...
    def authenticator(self, ncid: str) -> tuple[str | None, int | None]: ...
    def accept_totp_step(self, ncid: str, *, step: int) -> bool: ...
    def upsert(self, account: NewAccount, *, at: datetime) -> bool: ...
    def list(self) -> list[AccountInfo]: ...


def default_hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id, RFC 9106 low-memory profile


class SqlDirectory:
    def __init__(
        self, *, sessions: sessionmaker[Session], box: SecretBox, hasher: PasswordHasher | None = None
    ) -> None:
        self._sessions = sessions
        self._box = box
        self.hasher = hasher or default_hasher()

    def lookup(self, ncid: str) -> AccountInfo | None:
        with session_scope(self._sessions) as session:
            account = session.get(Account, ncid)
            return _info(account) if account else None

    def check_answer(self, ncid: str, position: int, answer: str) -> bool:
        with session_scope(self._sessions) as session:
            row = session.scalar(
                select(SecurityAnswer).where(
                    SecurityAnswer.ncid == ncid, SecurityAnswer.position == position
                )
            )
            stored = row.answer_hash if row else None
        # Hash anyway when there is no row so timing does not tell unknown from wrong.
        stored = stored or self._dummy_hash()
        try:
            return self.hasher.verify(stored, normalize_answer(answer)) and row is not None
        except (VerificationError, InvalidHashError):
            return False

    def set_phones(self, ncid: str, *, primary: str, secondary: str | None, at: datetime) -> None:
        with session_scope(self._sessions) as session:
            account = _require(session, ncid)
            account.primary_phone, account.secondary_phone = primary, secondary
            account.method, account.state, account.updated_at = "phone", STATE_REGISTERED, at

    def set_authenticator(self, ncid: str, *, secret: str, step: int, at: datetime) -> None:
        with session_scope(self._sessions) as session:
            account = _require(session, ncid)
            account.totp_secret = self._box.encrypt(secret)
            account.totp_last_step = step
            account.method, account.state, account.updated_at = "app", STATE_REGISTERED, at

    def authenticator(self, ncid: str) -> tuple[str | None, int | None]:
        with session_scope(self._sessions) as session:
            account = session.get(Account, ncid)
            if account is None or account.totp_secret is None:
                return None, None
            return self._box.decrypt(account.totp_secret), account.totp_last_step

    def accept_totp_step(self, ncid: str, *, step: int) -> bool:
        with session_scope(self._sessions) as session:
            account = _require(session, ncid)
            if account.totp_last_step is not None and step <= account.totp_last_step:
                return False
            account.totp_last_step = step
            return True

    def upsert(self, account: NewAccount, *, at: datetime) -> bool:
        """Create or replace an account; True when it was new."""
        _check(account)
        with session_scope(self._sessions) as session:
            row = session.get(Account, account.ncid)
            created = row is None
            if row is None:
                row = Account(ncid=account.ncid)
                session.add(row)
            row.first_name, row.last_name, row.email = account.first_name, account.last_name, account.email
            row.ncid_created_at, row.state, row.method = account.ncid_created_at, account.state, account.method
            row.primary_phone, row.secondary_phone = account.primary_phone, account.secondary_phone
            row.updated_at = at
            row.answers = [
                SecurityAnswer(position=i, question=q, answer_hash=self.hasher.hash(normalize_answer(a)))
                for i, (q, a) in enumerate(account.security, start=1)
            ]
            return created

    def list(self) -> list[AccountInfo]:
        with session_scope(self._sessions) as session:
            return [_info(a) for a in session.scalars(select(Account).order_by(Account.ncid))]

    def _dummy_hash(self) -> str:
        if not hasattr(self, "_dummy"):
            self._dummy = self.hasher.hash("not an answer")
        return self._dummy


def _require(session: Session, ncid: str) -> Account:
    account = session.get(Account, ncid)
    if account is None:
        raise BadRequest(f"no MFA account {ncid!r}")
    return account


def _check(account: NewAccount) -> None:
    if normalize_ncid(account.ncid) != account.ncid:
        raise BadRequest(f"not a valid NCID: {account.ncid!r}")
    if account.state not in STATES:
        raise BadRequest(f"state must be one of {', '.join(STATES)}")
    if account.method is not None and account.method not in METHODS:
        raise BadRequest(f"method must be one of {', '.join(METHODS)}")
    if account.security and len(account.security) != 4:
        raise BadRequest("four security questions and answers are required")


def _info(account: Account) -> AccountInfo:
    return AccountInfo(
        ncid=account.ncid, first_name=account.first_name, last_name=account.last_name,
        email=account.email, ncid_created_at=utc(account.ncid_created_at), state=account.state,
        method=account.method, primary_phone=account.primary_phone,
        secondary_phone=account.secondary_phone,
        questions=tuple((a.position, a.question) for a in account.answers),
    )
