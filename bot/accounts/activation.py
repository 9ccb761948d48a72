"""Authenticator activation: a new TOTP secret shown as a code, an otpauth URL and a QR
code; valid 10 minutes; a new one supersedes the old; finished by typing a 6-digit code
from the app (±1 time step, each step accepted once) — our equivalent of APPROVE."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.accounts import audit
from bot.accounts.crypto import SecretBox
from bot.accounts.directory import Directory
from bot.accounts.models import ActivationCode, utc
from bot.errors import RateLimited
from bot.services.clock import Clock
from bot.services.redis_limits import Limits, LocalLimits, MemoryLimits  # issue 7
from bot.storage.db import session_scope

VALID_MINUTES = 10
PER_HOUR = 5
MAX_WRONG_CODES = 5
ISSUER = "NCTracks MFA"
_SIX_DIGITS = re.compile(r"\d{6}")


@dataclass(frozen=True)
class NewActivation:
    code: str  # the secret, grouped for typing into the app
    url: str  # otpauth:// URI, also what the QR code holds
    qr_data_url: str  # data:image/svg+xml;base64,... (the staff console's live page)
    expires_at: datetime
    qr_path: str = ""  # issue 14: a one-time link to the QR as PNG, valid while the code is

    def __repr__(self) -> str:
        return f"NewActivation(expires_at={self.expires_at.isoformat()})"


QR_PATH = "/activation/qr/"


class ActivationService:
    limits: Limits = LocalLimits()  # issue 7: replaced by the shared (Redis) gate when configured

    def __init__(
        self, *, sessions: sessionmaker[Session], directory: Directory, box: SecretBox, clock: Clock,
        per_hour: int = PER_HOUR,
    ) -> None:
        self._sessions, self._directory, self._box, self._clock = sessions, directory, box, clock
        self._per_hour = per_hour
        # Issue 14: remembers which one-time QR links were used (Redis when configured).
        self.once: Limits = MemoryLimits()

    def generate(self, *, ncid: str, sender_id: str, channel: str = "rest") -> NewActivation:
        now = self._clock.now()
        # --- issue 7: an atomic gate shared by every worker, before the SQL count ---
        gate = self.limits.admit(f"activation:{ncid}", limit=self._per_hour, window_seconds=3600, now=now)
        with session_scope(self._sessions) as session:
            since = now - timedelta(hours=1)
            recent = list(session.scalars(
                select(ActivationCode.created_at).where(
                    ActivationCode.ncid == ncid, ActivationCode.created_at > since
                ).order_by(ActivationCode.created_at)
            ))
            if len(recent) >= self._per_hour or gate is not None:
                retry = (int((utc(recent[0]) + timedelta(hours=1) - now).total_seconds())
                         if len(recent) >= self._per_hour else gate or 60)
                audit.record(session, at=now, ncid=ncid, actor=sender_id, action="activation_code",
                             channel=channel, outcome="rate_limited")
                session.commit()
                raise RateLimited("too many activation codes", retry_after=retry)
            for old in session.scalars(select(ActivationCode).where(
                ActivationCode.ncid == ncid, ActivationCode.status == "pending"
            )):
                old.status = "superseded"
            secret = pyotp.random_base32()
            expires = now + timedelta(minutes=VALID_MINUTES)
            row = ActivationCode(ncid=ncid, secret=self._box.encrypt(secret), created_at=now,
                                 expires_at=expires, status="pending", attempts=0)
            session.add(row)
            audit.record(session, at=now, ncid=ncid, actor=sender_id, action="activation_code",
                         channel=channel, outcome="issued")
            session.flush()
            row_id = row.id
        uri = pyotp.TOTP(secret).provisioning_uri(name=ncid, issuer_name=ISSUER)
        qr = segno.make(uri, error="m")
        return NewActivation(
            code=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
            url=uri, qr_data_url=qr.svg_data_uri(scale=4), expires_at=expires,
            qr_path=f"{QR_PATH}{row_id}.{self._box.sign(f'activation-qr:{row_id}')}",
        )

    def qr_png(self, token: str) -> bytes | None:
        """The QR of a pending code, once: the link is signed, works while the code is
        pending and unexpired, and only for its first use. None otherwise."""
        row_id, _, signature = token.removesuffix(".png").partition(".")
        if not row_id.isascii() or not row_id.isdigit() or len(row_id) > 18 \
                or not self._box.verify(f"activation-qr:{row_id}", signature):
            return None
        now = self._clock.now()
        with session_scope(self._sessions) as session:
            row = session.get(ActivationCode, int(row_id))
            if row is None or row.status != "pending" or utc(row.expires_at) <= now:
                return None
            left = int((utc(row.expires_at) - now).total_seconds()) + 1
            if not self.once.first_use(f"activation-qr:{row_id}", ttl_seconds=left):
                return None
            secret, ncid = self._box.decrypt(row.secret), row.ncid
        import io

        out = io.BytesIO()
        uri = pyotp.TOTP(secret).provisioning_uri(name=ncid, issuer_name=ISSUER)
        segno.make(uri, error="m").save(out, kind="png", scale=6, border=4)
        return out.getvalue()

    def confirm(self, *, ncid: str, code: str, sender_id: str, channel: str = "rest") -> str:
        """One of: confirmed, invalid_format, wrong_code, expired, no_pending, replayed, too_many."""
        now = self._clock.now()
        code = code.strip().replace(" ", "")
        with session_scope(self._sessions) as session:
            row = session.scalar(
                select(ActivationCode).where(ActivationCode.ncid == ncid)
                .order_by(ActivationCode.created_at.desc(), ActivationCode.id.desc()).limit(1)
            )
            outcome = self._check(session, row, code, now, ncid)
            audit.record(session, at=now, ncid=ncid, actor=sender_id, action="activation_confirm",
                         channel=channel, outcome=outcome)
            return outcome

    def _check(self, session: Session, row: ActivationCode | None, code: str, now: datetime, ncid: str) -> str:
        if not _SIX_DIGITS.fullmatch(code):
            return "invalid_format"
        if row is None or row.status == "superseded":
            return "no_pending"
        secret = self._box.decrypt(row.secret)
        step = _matching_step(secret, code, now)
        if row.status == "used":
            _, last = self._directory.authenticator(ncid)
            return "replayed" if step is not None and last is not None and step <= last else "no_pending"
        if utc(row.expires_at) <= now:
            return "expired"
        if row.attempts >= MAX_WRONG_CODES:
            return "too_many"
        if step is None:
            row.attempts += 1
            return "wrong_code"
        row.status = "used"
        self._directory.set_authenticator(ncid, secret=secret, step=step, at=now)
        return "confirmed"

    def pending_count(self, *, ncid: str) -> int:
        with session_scope(self._sessions) as session:
            return session.scalar(select(func.count()).select_from(ActivationCode).where(
                ActivationCode.ncid == ncid, ActivationCode.status == "pending")) or 0


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for offset in (0, -1, 1):
        if totp.generate_otp(current + offset) == code:
            return current + offset
    return None
