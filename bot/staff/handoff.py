"""Live handoff: conversations waiting for a person, and those a person holds.

While an agent holds a conversation the Assistant stores the user's messages and stays
quiet (its hook calls ``intercept``); the agent's messages are stored as bot messages and
published to the conversation's live listeners (LiveHub), which the web widget's SSE stream
and the Slack channel read. State lives in SQL so every worker sees the same holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.accounts.models import utc
from bot.dialogue.responses import BotMessage
from bot.errors import BadRequest, NotFound
from bot.privacy.phi import scan
from bot.services.clock import Clock
from bot.staff.models import Handoff, StaffSession, StaffUser
from bot.storage.db import session_scope
from bot.storage.models import Conversation

if TYPE_CHECKING:
    from bot.services.live import LiveHub
    from bot.services.hours import CallCenterHours
    from bot.staff.service import StaffMember
    from bot.storage.tracker_store import SqlTrackerStore

MESSAGES = Path(__file__).resolve().parent / "messages.yml"
# Intents that mean "let me talk to a person".
PERSON_INTENTS = frozenset({"contact_support"})
MAX_REPLY_CHARS = 2000
# An agent counts as online when their console was used this recently.
ONLINE_MINUTES = 30
# A place in the queue lapses after this long.
WAITING_HOURS = 2

_handoffs, _staff = Handoff.__table__, StaffUser.__table__
_HOLDER = (select(_staff.c.display_name)
           .select_from(_handoffs.outerjoin(_staff, _handoffs.c.agent_id == _staff.c.id))
           .where(_handoffs.c.sender_id == bindparam("sender_id"), _handoffs.c.state == "active"))


@dataclass(frozen=True)
class LiveConversation:
    sender_id: str
    channel: str
    updated_at: datetime
    latest_intent: str | None
    state: str | None  # waiting / active / None
    agent: str | None
    requested_at: datetime | None


class HandoffRegistry:
    def __init__(self, *, engine: Engine, sessions: sessionmaker[Session], clock: Clock, store: "SqlTrackerStore",
                 live: "LiveHub", hours: "CallCenterHours | None", messages_path: Path = MESSAGES) -> None:
        self.engine, self.sessions, self.clock, self.store = engine, sessions, clock, store
        self.live, self.hours = live, hours
        env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        raw = yaml.safe_load(messages_path.read_text(encoding="utf-8"))
        self._templates = {key: env.from_string(str(value)) for key, value in raw.items()}

    def _say(self, key: str, **values: Any) -> str:
        return str(self._templates[key].render(**values)).strip()

    # ------------------------------------------------------------- assistant hooks
    def holder(self, sender_id: str) -> str | None:
        """Display name of the agent holding the conversation, or None."""
        # Asked before every turn: a prebuilt Core statement, no ORM unit of work.
        with self.engine.connect() as conn:
            row = conn.execute(_HOLDER, {"sender_id": sender_id}).first()
        return (row.display_name or "agent") if row else None

    async def intercept(self, *, sender_id: str, text: str, channel: str,
                        metadata: dict[str, Any]) -> list[BotMessage] | None:
        """None lets the assistant answer; a list (empty) means an agent holds the conversation
        and the message was stored for them."""
        if self.holder(sender_id) is None:
            return None
        now = self.clock.now()
        event = {"event": "user", "text": text, "timestamp": now.timestamp(),
                 "parse_data": {"intent": {"name": "human_handoff", "confidence": 1.0}, "entities": [],
                                "intent_ranking": []},
                 "metadata": {**metadata, "handoff": True}, "input_channel": channel}
        self.store.append(sender_id, [event], channel=channel, latest_intent=None, now=now)
        return []

    async def after_turn(self, *, sender_id: str, intent: str, channel: str) -> list[BotMessage]:
        """A user who asks for a person while the call center is open joins the queue."""
        if intent not in PERSON_INTENTS or self.hours is None or not self.hours.status().open:
            return []
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            if not self._agents_online(session, now):
                return []  # nobody would come: the call center and ticket offer stand alone
            self._expire_waiting(session, now)
            existing = session.scalar(select(Handoff).where(Handoff.sender_id == sender_id,
                                                            Handoff.state.in_(("waiting", "active"))))
            if existing is not None:
                return []
            session.add(Handoff(sender_id=sender_id, channel=channel, state="waiting", requested_at=now))
            session.flush()
            position = len(session.scalars(select(Handoff.id).where(Handoff.state == "waiting")).all())
        message = BotMessage(text=self._say("queued", position=position))
        # Stored like any bot message, so the widget's history shows it after a reload.
        self.store.append(sender_id, [message.as_event(now.timestamp())], channel=channel, latest_intent=None,
                          now=now)
        return [message]

    def _expire_waiting(self, session: Session, now: datetime) -> None:
        """Users who asked for a person hours ago have left; they no longer hold a place."""
        for row in session.scalars(select(Handoff).where(
                Handoff.state == "waiting", Handoff.requested_at < now - timedelta(hours=WAITING_HOURS))):
            row.state, row.ended_at = "ended", now

    def _agents_online(self, session: Session, now: datetime) -> bool:
        return session.scalar(
            select(StaffSession.id).where(StaffSession.stage == "full", StaffSession.revoked.is_(False),
                                          StaffSession.expires_at > now,
                                          StaffSession.last_seen_at > now - timedelta(minutes=ONLINE_MINUTES))
            .limit(1)
        ) is not None

    # ------------------------------------------------------------- agent actions
    async def take_over(self, *, sender_id: str, agent: "StaffMember") -> None:
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            conversation = session.get(Conversation, sender_id)
            if conversation is None:
                raise NotFound(f"no conversation {sender_id}")
            row = session.scalar(select(Handoff).where(Handoff.sender_id == sender_id,
                                                       Handoff.state.in_(("waiting", "active"))))
            # A supervisor may take a conversation over from an agent (who went home, say).
            if row is not None and row.state == "active" and row.agent_id != agent.id \
                    and not agent.has_role("supervisor"):
                raise BadRequest("another agent already holds this conversation", status=409)
            if row is None:
                row = Handoff(sender_id=sender_id, channel=conversation.channel, requested_at=now, state="waiting")
                session.add(row)
            row.state, row.agent_id, row.started_at = "active", agent.id, now
            conversation.paused = True
            channel = conversation.channel
        await self._deliver(sender_id, channel, self._say("joined", agent=agent.display_name), agent)

    async def reply(self, *, sender_id: str, agent: "StaffMember", text: str) -> None:
        text = text.strip()
        if not text:
            raise BadRequest("the reply is empty")
        if len(text) > MAX_REPLY_CHARS:
            raise BadRequest(f"the reply is longer than {MAX_REPLY_CHARS} characters")
        channel = self._held_by(sender_id, agent)
        # Agents are people too: what they type is redacted like everything else.
        await self._deliver(sender_id, channel, self._say("reply", agent=agent.display_name, text=scan(text).text),
                            agent)

    async def hand_back(self, *, sender_id: str, agent: "StaffMember") -> None:
        channel = self._held_by(sender_id, agent)
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            for row in session.scalars(select(Handoff).where(Handoff.sender_id == sender_id,
                                                             Handoff.state == "active")):
                row.state, row.ended_at = "ended", now
            conversation = session.get(Conversation, sender_id)
            if conversation is not None:
                conversation.paused = False
        await self._deliver(sender_id, channel, self._say("handed_back", agent=agent.display_name), agent)

    def _held_by(self, sender_id: str, agent: "StaffMember") -> str:
        with session_scope(self.sessions) as session:
            row = session.scalar(select(Handoff).where(Handoff.sender_id == sender_id, Handoff.state == "active"))
            if row is None or row.agent_id != agent.id:
                raise BadRequest("take over the conversation first", status=409)
            return row.channel

    async def _deliver(self, sender_id: str, channel: str, text: str, agent: "StaffMember") -> None:
        message = BotMessage(text=text, custom={"agent": agent.display_name})
        now = self.clock.now()
        self.store.append(sender_id, [message.as_event(now.timestamp())], channel=channel, latest_intent=None,
                          now=now)
        await self.live.publish(sender_id, [message.as_dict()])

    # ------------------------------------------------------------- lists
    def conversations(self, *, active_minutes: int = 60, limit: int = 100) -> list[LiveConversation]:
        """Conversations with a turn in the last ``active_minutes``, plus every waiting or held
        one; waiting first (oldest first), then held, then the rest by recency."""
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            self._expire_waiting(session, now)
            handoffs = {
                row.Handoff.sender_id: row for row in session.execute(
                    select(Handoff, StaffUser.display_name).join(StaffUser, Handoff.agent_id == StaffUser.id,
                                                                  isouter=True)
                    .where(Handoff.state.in_(("waiting", "active")))
                )
            }
            recent = session.scalars(
                select(Conversation).where(Conversation.updated_at >= now - timedelta(minutes=active_minutes))
                .order_by(Conversation.updated_at.desc()).limit(limit)
            ).all()
            ids = {c.sender_id for c in recent} | set(handoffs)
            rows = {c.sender_id: c for c in recent}
            missing = ids - set(rows)
            if missing:
                rows.update({c.sender_id: c for c in session.scalars(
                    select(Conversation).where(Conversation.sender_id.in_(missing)))})
            out = []
            for sender_id, conversation in rows.items():
                if sender_id.startswith("staff:"):
                    continue  # an agent's own test-call turns, not a user's conversation
                handoff = handoffs.get(sender_id)
                out.append(LiveConversation(
                    sender_id=sender_id, channel=conversation.channel, updated_at=utc(conversation.updated_at),
                    latest_intent=conversation.latest_intent,
                    state=handoff.Handoff.state if handoff else None,
                    agent=handoff.display_name if handoff else None,
                    requested_at=utc(handoff.Handoff.requested_at) if handoff else None,
                ))
        order = {"waiting": 0, "active": 1, None: 2}
        out.sort(key=lambda c: (order[c.state], c.requested_at.timestamp() if c.state == "waiting" and c.requested_at
                                else -c.updated_at.timestamp()))
        return out

    def state_of(self, sender_id: str) -> tuple[str | None, int | None]:
        """(state, agent id) of the open handoff of a conversation."""
        with session_scope(self.sessions) as session:
            row = session.scalar(select(Handoff).where(Handoff.sender_id == sender_id,
                                                       Handoff.state.in_(("waiting", "active"))))
            return (row.state, row.agent_id) if row else (None, None)
