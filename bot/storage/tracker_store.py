"""Conversation events in SQL: a Rasa-style tracker store.

Events are append-only with a per-conversation sequence number; the unique index on
(sender_id, seq) means two workers can never both write "event 7" of one conversation.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.db import session_scope
from bot.storage.models import Conversation, ConversationEvent

_TEXT_EVENTS = frozenset({"user", "bot"})


class SqlTrackerStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def load(self, sender_id: str, *, after_seq: int = 0) -> list[dict[str, Any]]:
        with session_scope(self._sessions) as session:
            rows = session.scalars(
                select(ConversationEvent)
                .where(ConversationEvent.sender_id == sender_id, ConversationEvent.seq > after_seq)
                .order_by(ConversationEvent.seq)
            ).all()
            return [dict(row.data, _id=row.id, _seq=row.seq) for row in rows]

    def exists(self, sender_id: str) -> bool:
        with session_scope(self._sessions) as session:
            return session.get(Conversation, sender_id) is not None

    def append(self, sender_id: str, events: Sequence[dict[str, Any]], *, channel: str,
               latest_intent: str | None, now: datetime | None = None) -> list[int]:
        """Store events after the last stored one; return their row ids."""
        now = now or datetime.now(timezone.utc)
        with session_scope(self._sessions) as session:
            conversation = session.get(Conversation, sender_id)
            if conversation is None:
                conversation = Conversation(sender_id=sender_id, channel=channel, created_at=now,
                                            updated_at=now, turn_count=0, paused=False)
                session.add(conversation)
                session.flush()
            last = session.scalar(
                select(func.max(ConversationEvent.seq)).where(ConversationEvent.sender_id == sender_id)
            ) or 0
            rows = []
            for offset, event in enumerate(events, start=1):
                data = {k: v for k, v in event.items() if not k.startswith("_")}
                row = ConversationEvent(
                    sender_id=sender_id, seq=last + offset, type=str(data.get("event")),
                    timestamp=float(data.get("timestamp") or now.timestamp()), data=data,
                    text=data.get("text") if data.get("event") in _TEXT_EVENTS else None,
                )
                session.add(row)
                rows.append(row)
                event["_seq"] = row.seq
            conversation.updated_at = now
            conversation.turn_count += 1
            if latest_intent:
                conversation.latest_intent = latest_intent
            session.flush()
            for row, event in zip(rows, events):
                event["_id"] = row.id
            return [row.id for row in rows]

    def messages(self, sender_id: str, *, after_id: int = 0) -> list[dict[str, Any]]:
        """User and bot messages for the widget's history (external triggers left out)."""
        with session_scope(self._sessions) as session:
            rows = session.scalars(
                select(ConversationEvent)
                .where(ConversationEvent.sender_id == sender_id, ConversationEvent.id > after_id,
                       ConversationEvent.type.in_(_TEXT_EVENTS))
                .order_by(ConversationEvent.seq)
            ).all()
            out = []
            for row in rows:
                data = row.data
                if row.type == "user" and (data.get("metadata") or {}).get("is_external"):
                    continue
                item: dict[str, Any] = {"id": row.id, "from": row.type, "timestamp": row.timestamp,
                                        "text": data.get("text")}
                extra = data.get("data") or {}
                for key in ("buttons", "image", "custom"):
                    if extra.get(key):
                        item[key] = extra[key]
                out.append(item)
            return out
