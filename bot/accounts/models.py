"""MFA directory tables: accounts, hashed security answers, activation codes, identity
checks, test calls and the audit log. Secrets are stored only hashed or encrypted."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.db import Base

STATE_NOT_REGISTERED = "not_registered"
STATE_REGISTERED = "registered"
STATE_DISABLED = "disabled"
STATES = (STATE_NOT_REGISTERED, STATE_REGISTERED, STATE_DISABLED)
METHODS = ("phone", "app")


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Account(Base):
    __tablename__ = "mfa_accounts"

    ncid: Mapped[str] = mapped_column(String(64), primary_key=True)  # stored lower-case
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ncid_created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), default=STATE_NOT_REGISTERED)
    method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    primary_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # E.164
    secondary_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    totp_secret: Mapped[str | None] = mapped_column(Text, nullable=True)  # Fernet token
    # The last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    answers: Mapped[list[SecurityAnswer]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="SecurityAnswer.position"
    )


class SecurityAnswer(Base):
    __tablename__ = "mfa_security_answers"
    __table_args__ = (Index("ix_mfa_security_answers_ncid_position", "ncid", "position", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ncid: Mapped[str] = mapped_column(String(64), ForeignKey("mfa_accounts.ncid", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # 1..4
    question: Mapped[str] = mapped_column(String(255))
    answer_hash: Mapped[str] = mapped_column(String(255))  # argon2 of the normalised answer

    account: Mapped[Account] = relationship(back_populates="answers")


class ActivationCode(Base):
    """A pending authenticator enrollment: the new secret, encrypted, valid for 10 minutes."""

    __tablename__ = "mfa_activation_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ncid: Mapped[str] = mapped_column(
        String(64), ForeignKey("mfa_accounts.ncid", ondelete="CASCADE"), index=True
    )
    secret: Mapped[str] = mapped_column(Text)  # Fernet token
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending/superseded/used
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes typed


class IdentityLockout(Base):
    """Failure counter per NCID, known or not, so unknown NCIDs lock exactly like real ones."""

    __tablename__ = "mfa_identity_lockouts"

    ncid: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The two questions asked: kept until a success so restarting cannot re-roll them.
    positions: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdentityCheck(Base):
    """One conversation's identity check: answers checked as they arrive, result kept here,
    never in the tracker."""

    __tablename__ = "mfa_identity_checks"

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    ncid: Mapped[str] = mapped_column(String(64))
    positions: Mapped[list[int]] = mapped_column(JSON)
    results: Mapped[list[bool]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    verified_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Issue 14: a digest of the channel session that passed the check (see identity.session_key).
    session_key: Mapped[str | None] = mapped_column(String(64), nullable=True)


class TestCall(Base):
    __tablename__ = "mfa_test_calls"
    __table_args__ = (Index("ix_mfa_test_calls_ncid_created_at", "ncid", "created_at"),)
    __test__ = False  # not a pytest class

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ncid: Mapped[str] = mapped_column(String(64))
    sender_id: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(32), default="rest")
    purpose: Mapped[str] = mapped_column(String(16), default="test")  # test / change_phone
    numbers: Mapped[list[str]] = mapped_column(JSON)  # E.164, tried in order
    # For a phone change: the new numbers, saved to the account only once confirmed.
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    leg: Mapped[int] = mapped_column(Integer, default=0)
    call_sid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    answered: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEntry(Base):
    __tablename__ = "mfa_audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ncid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(255))  # sender id, "twilio", "operator"
    action: Mapped[str] = mapped_column(String(48))
    channel: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(48))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
