"""Tickets (Contact Us inquiries) and their status history (the email outbox: bot/storage/outbox.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.db import Base

TICKET_STATUSES = ("new", "open", "pending", "resolved", "closed")


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tracking_number: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    npi: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str] = mapped_column(String(20))
    ext: Mapped[str | None] = mapped_column(String(10), nullable=True)
    last_name: Mapped[str] = mapped_column(String(50))
    first_name: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(254))
    message: Mapped[str] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(8), nullable=True, index=True)
    # The queue filters on these too; all three come from the diagnosis (bot/tickets/diagnosis.py).
    call_failure: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    mfa_method: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    # The conversation's diagnosis (bot/tickets/diagnosis.py): shown beside the message, never in it.
    diagnosis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The conversation, already redacted by bot.privacy.phi.scan.
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sender_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketEvent.id"
    )


class TicketEvent(Base):
    """One status change (or note) in a ticket's history."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(String(64), default="assistant")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    ticket: Mapped[Ticket] = relationship(back_populates="events")
