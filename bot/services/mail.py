"""Outgoing email through an outbox table.

A ticket and its acknowledgement email are written in one unit of work, so nothing
is lost if SMTP is down: ``Outbox.deliver_due`` sends what is due and backs off
exponentially on failure (30 s, 1 min, 2 min ... capped at 1 h), marking a row
``failed`` (kept, never deleted) after ``max_attempts``. Without ``smtp_url`` emails
are ``captured`` and only shown on the development mailbox page.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import ConfigError
from bot.services.clock import Clock
from bot.storage.db import session_scope
from bot.storage.outbox import OutboxEmail

log = logging.getLogger(__name__)

BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
DEFAULT_FROM = "noreply@helpdesk.localhost"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    sender: str = DEFAULT_FROM
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str) -> "SmtpConfig":
        """``smtp://user:pass@host:port?starttls=1&from=noreply@...`` (``smtps://`` for TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ConfigError("HELPDESK_SMTP_URL must look like smtp://user:pass@host:port")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        ssl = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if ssl else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            starttls=query.get("starttls", "0") in {"1", "true", "yes"},
            ssl=ssl,
            sender=query.get("from", DEFAULT_FROM),
            timeout=float(query.get("timeout", 10)),
        )


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failures: 30 s doubling, capped at 1 h."""
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def send_via_smtp(config: SmtpConfig, email: OutboxEmail) -> None:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    client_cls = smtplib.SMTP_SSL if config.ssl else smtplib.SMTP
    with client_cls(config.host, config.port, timeout=config.timeout) as client:
        if config.starttls:
            client.starttls()
        if config.username:
            client.login(config.username, config.password or "")
        client.send_message(message)


class Outbox:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        smtp_url: str | None,
        max_attempts: int = 8,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.smtp = SmtpConfig.from_url(smtp_url) if smtp_url else None
        self.max_attempts = max_attempts

    def enqueue(
        self,
        session: Session,
        *,
        to: str,
        subject: str,
        text: str,
        html: str | None = None,
        ticket_id: int | None = None,
    ) -> OutboxEmail:
        """Add an email to the caller's unit of work (committed with the ticket)."""
        now = self.clock.now()
        email = OutboxEmail(
            to=to, subject=subject, text=text, html=html, ticket_id=ticket_id,
            status="pending" if self.smtp else "captured",
            attempts=0, next_attempt_at=now, created_at=now,
        )
        session.add(email)
        return email

    async def deliver_due(self, *, limit: int = 20) -> int:
        """Send every pending email whose time has come; returns how many were sent."""
        if self.smtp is None:
            return 0
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            due = session.scalars(
                select(OutboxEmail)
                .where(OutboxEmail.status == "pending", OutboxEmail.next_attempt_at <= now)
                .order_by(OutboxEmail.id)
                .limit(limit)
            ).all()
            session.expunge_all()
        sent = 0
        for email in due:
            error: str | None = None
            try:
                await asyncio.to_thread(send_via_smtp, self.smtp, email)
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
            self._record(email_id=email.id, error=error)
            sent += error is None
        return sent

    def _record(self, *, email_id: int, error: str | None) -> None:
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            email = session.get(OutboxEmail, email_id)
            if email is None:
                return
            email.attempts += 1
            if error is None:
                email.status, email.sent_at, email.last_error = "sent", now, None
                return
            log.warning("outbox email %s failed (attempt %s): %s", email_id, email.attempts, error)
            email.last_error = error
            if email.attempts >= self.max_attempts:
                email.status = "failed"
            else:
                email.next_attempt_at = now + backoff(email.attempts)

    def list_recent(self, *, limit: int = 50) -> list[OutboxEmail]:
        with session_scope(self.sessions) as session:
            rows = session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)).all()
            session.expunge_all()
            return list(rows)


class OutboxWorker:
    """Background task: deliver due emails every ``interval`` seconds until stopped."""

    def __init__(self, outbox: Outbox, *, interval: float = 5.0) -> None:
        self.outbox = outbox
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        await self._task
        self._task = None

    async def _run(self) -> None:
        # One round runs before the first wait, so a stop right after start still flushes.
        while True:
            try:
                await self.outbox.deliver_due()
            except Exception:  # keep the worker alive; the detail is in the log
                log.exception("outbox delivery round failed")
            if self._stopping.is_set():
                return
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
            except asyncio.TimeoutError:
                pass
