"""Conversation storage: one row per conversation, one row per tracker event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.db import Base


class Conversation(Base):
    __tablename__ = "conversations"

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), default="rest")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # Bumped on every turn; lets a second worker notice it holds a stale copy.
    turn_count: Mapped[int] = mapped_column(Integer, default=0)
    # Denormalised for the staff console: the latest intent and whether a human holds it.
    latest_intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    paused: Mapped[bool] = mapped_column(default=False)


class ConversationEvent(Base):
    """A Rasa-style tracker event (``{"event": "user", "text": ..., "timestamp": ...}``)."""

    __tablename__ = "conversation_events"
    __table_args__ = (Index("ix_conversation_events_sender_seq", "sender_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(
        String(255), ForeignKey("conversations.sender_id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    timestamp: Mapped[float] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Plain text of user/bot messages, already redacted, for transcripts and search.
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
