"""Conversation events in SQL: a Rasa-style tracker store.

Events are append-only with a per-conversation sequence number; the unique index on
(sender_id, seq) means two workers can never both write "event 7" of one conversation.

Every turn reads and writes here, so the statements are SQLAlchemy Core on one connection
(no ORM unit of work): an append is one UPDATE of the conversation row (an INSERT the first
time), one max(seq) and one executemany INSERT, in a single transaction. The UPDATE comes
first so that on PostgreSQL it row-locks the conversation: a second writer of the same
conversation (an agent's reply beside a turn) waits, then reads the new max(seq).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence, cast

from sqlalchemy import String, Table, bindparam, func, insert, select, update
from sqlalchemy.engine import Engine

from bot.storage.models import Conversation, ConversationEvent

_TEXT_EVENTS = frozenset({"user", "bot"})
_conversations = cast(Table, Conversation.__table__)
_events = cast(Table, ConversationEvent.__table__)

# Built once: composing a statement costs more than running it on SQLite.
_LOAD = (select(_events.c.seq, _events.c.data)
         .where(_events.c.sender_id == bindparam("sender_id"), _events.c.seq > bindparam("after_seq"))
         .order_by(_events.c.seq))
_EXISTS = select(_conversations.c.sender_id).where(_conversations.c.sender_id == bindparam("sender_id"))
_CHANNEL = select(_conversations.c.channel).where(_conversations.c.sender_id == bindparam("sender_id"))
# (An UPDATE's bind names must differ from its column names.)
_TOUCH = (update(_conversations).where(_conversations.c.sender_id == bindparam("sender"))
          .values(updated_at=bindparam("at"), turn_count=_conversations.c.turn_count + 1,
                  latest_intent=func.coalesce(bindparam("intent", type_=String), _conversations.c.latest_intent)))
_CREATE = insert(_conversations)
_LAST_SEQ = select(func.max(_events.c.seq)).where(_events.c.sender_id == bindparam("sender"))
_INSERT_EVENTS = insert(_events)
_MESSAGES = (select(_events.c.id, _events.c.type, _events.c.timestamp, _events.c.data)
             .where(_events.c.sender_id == bindparam("sender_id"), _events.c.id > bindparam("after_id"),
                    _events.c.type.in_(_TEXT_EVENTS))
             .order_by(_events.c.seq))


class SqlTrackerStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def load(self, sender_id: str, *, after_seq: int = 0) -> list[dict[str, Any]]:
        with self._engine.connect() as conn:
            rows = conn.execute(_LOAD, {"sender_id": sender_id, "after_seq": after_seq}).all()
        return [dict(data, _seq=seq) for seq, data in rows]

    def exists(self, sender_id: str) -> bool:
        with self._engine.connect() as conn:
            return conn.scalar(_EXISTS, {"sender_id": sender_id}) is not None

    def channel_of(self, sender_id: str) -> str | None:
        """The channel that started the conversation (issue 14: who may continue it)."""
        with self._engine.connect() as conn:
            value = conn.scalar(_CHANNEL, {"sender_id": sender_id})
        return str(value) if value is not None else None

    def append(self, sender_id: str, events: Sequence[dict[str, Any]], *, channel: str,
               latest_intent: str | None, now: datetime | None = None) -> None:
        """Store events after the last stored one; each event gets its `_seq`."""
        now = now or datetime.now(timezone.utc)
        rows: list[dict[str, Any]] = []
        with self._engine.begin() as conn:
            if conn.execute(_TOUCH, {"sender": sender_id, "at": now, "intent": latest_intent or None}).rowcount == 0:
                conn.execute(_CREATE, {"sender_id": sender_id, "channel": channel, "created_at": now, "updated_at": now,
                                       "turn_count": 1, "latest_intent": latest_intent or None, "paused": False})
            last = conn.scalar(_LAST_SEQ, {"sender": sender_id}) or 0
            for seq, event in enumerate(events, start=last + 1):
                data = {k: v for k, v in event.items() if not k.startswith("_")}
                kind = data.get("event")
                rows.append({"sender_id": sender_id, "seq": seq, "type": str(kind), "data": data,
                             "timestamp": float(data.get("timestamp") or now.timestamp()),
                             "text": data.get("text") if kind in _TEXT_EVENTS else None})
            if rows:
                conn.execute(_INSERT_EVENTS, rows)
        for row, event in zip(rows, events):
            event["_seq"] = row["seq"]

    def messages(self, sender_id: str, *, after_id: int = 0) -> list[dict[str, Any]]:
        """User and bot messages for the widget's history (external triggers left out)."""
        with self._engine.connect() as conn:
            rows = conn.execute(_MESSAGES, {"sender_id": sender_id, "after_id": after_id}).all()
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
