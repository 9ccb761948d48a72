"""Ticket service: create a Contact Us ticket (with its acknowledgement email in the
same unit of work), look up its status, and build the redacted transcript."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import SecuritySettings
from bot.privacy.phi import scan
from bot.services.redis_limits import Limits, MemoryLimits
from bot.tickets.limits import check_ticket_limits
from bot.services.clock import Clock
from bot.storage.db import session_scope
from bot.storage.models import ConversationEvent
from bot import tracking_numbers as tracking
from bot.tickets.models import Ticket, TicketEvent

if TYPE_CHECKING:
    from bot.services.mail import Outbox

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The Contact Center states its hours in Eastern time; the email dates the inquiry the same way.
CONTACT_ZONE = ZoneInfo("America/New_York")
# The seed's facts for the acknowledgement email (NCTracks Contact Center).
CONTACT = {
    "contact_phone": "1-800-688-6696",
    "call_center_phone": "800-688-6696",
    "contact_fax": "855-710-1965",
    "weekday_hours": "7:00 AM - 11:00 PM EST, Monday through Friday",
    "weekend_hours": "7:00 AM - 6:00 PM EST on weekends and State-approved holidays",
}
EMAIL_SUBJECT = "Acknowledgement of Email Inquiry - {tracking_number}"
MAX_TRANSCRIPT_EVENTS = 200


@dataclass(frozen=True)
class TicketForm:
    npi: str
    phone: str
    last_name: str
    first_name: str
    subject: str
    email: str
    message: str
    ext: str | None = None


@dataclass(frozen=True)
class TicketReceipt:
    tracking_number: str
    created_at: datetime
    email_status: str


@dataclass(frozen=True)
class TicketStatus:
    tracking_number: str
    status: str
    subject: str
    created_at: datetime
    updated_at: datetime
    history: list[dict[str, Any]] = field(default_factory=list)


def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_acknowledgement(*, ticket: Ticket) -> tuple[str, str, str]:
    """(subject, text, html) of the acknowledgement email for ``ticket``."""
    env = _templates()
    values = dict(
        CONTACT,
        tracking_number=ticket.tracking_number,
        first_name=ticket.first_name,
        subject=ticket.subject,
        sent_on=_eastern(ticket.created_at).strftime("%m/%d/%Y %I:%M %p %Z"),
    )
    text = env.get_template("acknowledgement.txt.j2").render(values)
    html = env.get_template("acknowledgement.html.j2").render(values)
    return EMAIL_SUBJECT.format(tracking_number=ticket.tracking_number), text, html


def _eastern(moment: datetime) -> datetime:
    """Stored times are UTC (SQLite hands them back naive)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CONTACT_ZONE)


def build_transcript(*, session: Session, sender_id: str) -> list[dict[str, Any]]:
    """User and bot messages of a conversation, redacted again (defence in depth)."""
    rows = session.scalars(
        select(ConversationEvent)
        .where(ConversationEvent.sender_id == sender_id, ConversationEvent.type.in_(("user", "bot")))
        .order_by(ConversationEvent.seq.desc())
        .limit(MAX_TRANSCRIPT_EVENTS)
    ).all()
    transcript = []
    for row in reversed(rows):
        text = row.text if row.text is not None else str((row.data or {}).get("text") or "")
        transcript.append({"role": row.type, "text": scan(text).text, "timestamp": row.timestamp})
    return transcript


def _unique_tracking_number(session: Session) -> str:
    # 60 random bits make a collision vanishingly rare; the unique index is the real guard.
    while True:
        candidate = tracking.generate()
        if session.scalar(select(Ticket.id).where(Ticket.tracking_number == candidate)) is None:
            return candidate


def create_ticket(
    *,
    session: Session,
    form: TicketForm,
    now: datetime,
    outbox: "Outbox",
    diagnosis: dict[str, Any] | None = None,
    sender_id: str | None = None,
    channel: str | None = None,
    transcript: list[dict[str, Any]] | None = None,
    continued_from: str | None = None,
) -> Ticket:
    """Store the ticket and enqueue its acknowledgement email in the caller's unit of work.

    ``continued_from`` is the conversation the form was moved out of (a Slack channel thread
    whose ticket form went on in the user's DM); its messages come first in the transcript."""
    if transcript is None and sender_id:
        earlier = build_transcript(session=session, sender_id=continued_from) if continued_from else []
        transcript = (earlier + build_transcript(session=session, sender_id=sender_id))[-MAX_TRANSCRIPT_EVENTS:]
    ticket = Ticket(
        tracking_number=_unique_tracking_number(session),
        status="new",
        npi=form.npi, phone=form.phone, ext=form.ext,
        last_name=form.last_name, first_name=form.first_name,
        subject=form.subject, email=form.email,
        message=scan(form.message).text,
        error_code=(diagnosis or {}).get("error_code"),
        call_failure=(diagnosis or {}).get("call_failure"),
        mfa_method=(diagnosis or {}).get("mfa_method"),
        diagnosis=diagnosis or {},
        transcript=[dict(item, text=scan(str(item.get("text", ""))).text) for item in transcript or []],
        sender_id=sender_id, channel=channel,
        created_at=now, updated_at=now,
    )
    ticket.events.append(TicketEvent(status="new", note="filed by the assistant", created_at=now))
    session.add(ticket)
    session.flush()
    subject, text, html = render_acknowledgement(ticket=ticket)
    outbox.enqueue(session, to=ticket.email, subject=subject, text=text, html=html, ticket_id=ticket.id)
    return ticket


def get_status(*, session: Session, tracking_number: str, email: str) -> TicketStatus | None:
    """The ticket's status, or None when the number is unknown *or* the email differs:
    the caller cannot tell which, so nothing is disclosed on a mismatch."""
    canonical = tracking.normalize(tracking_number)
    if canonical is None:
        return None
    ticket = session.scalar(select(Ticket).where(Ticket.tracking_number == canonical))
    given = (email or "").strip().lower().encode()
    if ticket is None or not hmac.compare_digest(ticket.email.lower().encode(), given):
        return None
    return TicketStatus(
        tracking_number=ticket.tracking_number, status=ticket.status, subject=ticket.subject,
        created_at=ticket.created_at, updated_at=ticket.updated_at,
        history=[{"status": e.status, "at": e.created_at.isoformat()} for e in ticket.events],
    )


class TicketService:
    """What actions use: each method is one unit of work."""

    def __init__(self, *, sessions: sessionmaker[Session], clock: Clock, outbox: "Outbox",
                 security: SecuritySettings | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.outbox = outbox
        # Issue 14: Contact Us limits (bot/tickets/limits.py); the shared throttle when attached.
        self.security = security or SecuritySettings()
        self.throttle: Limits = MemoryLimits(clock=lambda: clock.now().timestamp())

    def create(
        self,
        *,
        form: TicketForm,
        diagnosis: dict[str, Any] | None = None,
        sender_id: str | None = None,
        channel: str | None = None,
        continued_from: str | None = None,
        client: str | None = None,
    ) -> TicketReceipt:
        """Raises RateLimited when a Contact Us limit is reached (``client``: the channel's
        client address or user, from the turn's metadata)."""
        check_ticket_limits(throttle=self.throttle, security=self.security, now=self.clock.now(),
                            sender_id=sender_id, client=client, email=form.email)
        with session_scope(self.sessions) as session:
            ticket = create_ticket(
                session=session, form=form, now=self.clock.now(), outbox=self.outbox,
                diagnosis=diagnosis, sender_id=sender_id, channel=channel, continued_from=continued_from,
            )
            email_status = "pending" if self.outbox.smtp else "captured"
            return TicketReceipt(ticket.tracking_number, ticket.created_at, email_status)

    def status(self, *, tracking_number: str, email: str) -> TicketStatus | None:
        with session_scope(self.sessions) as session:
            return get_status(session=session, tracking_number=tracking_number, email=email)
