"""The Assistant: frames one conversation turn from channel input to stored events.

load (cache + new events from SQL) -> PHI guard -> NLU -> dialogue engine -> persist -> publish.
Turns of one conversation run one at a time (a lock per sender); different
conversations run side by side on the one event loop.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import OrderedDict
from typing import Any, Callable, Iterable, Protocol

from bot.services.live import LiveHub
from bot.dialogue.engine import DialogueEngine, Turn
from bot.dialogue.responses import BotMessage
from bot.dialogue.tracker import DialogueState
from bot.nlu.interpreter import Interpreter
from bot.services.clock import Clock
from bot.services.redis_locks import ConversationLocks, LocalLocks
from bot.storage.tracker_store import SqlTrackerStore
from bot.text import clean_text

log = logging.getLogger(__name__)

_CACHE_SIZE = 5000


class PhiFinding(Protocol):
    """What the PHI/PII scanner returns (bot.privacy.phi.PhiScan)."""

    @property
    def text(self) -> str: ...  # the message with every finding replaced by a label

    @property
    def kinds(self) -> tuple[str, ...]: ...


PhiScanner = Callable[[str], PhiFinding]
TurnObserver = Callable[..., None]  # (channel=, events=, seconds=): see bot.ops.metrics


class HandoffHook(Protocol):
    """Issue 6: the staff console's live-handoff registry, as the Assistant sees it."""

    async def intercept(self, *, sender_id: str, text: str, channel: str,
                        metadata: dict[str, Any]) -> list[BotMessage] | None: ...

    async def after_turn(self, *, sender_id: str, intent: str, channel: str) -> list[BotMessage]: ...


class Assistant:
    def __init__(self, *, interpreter: Interpreter, engine: DialogueEngine, store: SqlTrackerStore,
                 live: LiveHub, clock: Clock, max_message_chars: int,
                 session_expiry_minutes: int, phi_scanner: PhiScanner | None = None,
                 locks: ConversationLocks | None = None, observer: TurnObserver | None = None) -> None:
        self.interpreter = interpreter
        self.engine = engine
        self.store = store
        self.live = live
        self.clock = clock
        self.max_message_chars = max_message_chars
        self.session_expiry_seconds = session_expiry_minutes * 60
        self.phi_scanner = phi_scanner
        # --- issue 7: the per-conversation lock is pluggable (a Redis lock across workers),
        # and an observer (metrics) sees each stored turn ---
        self.locks: ConversationLocks = locks or LocalLocks()
        self.observer = observer
        self._cache: OrderedDict[str, DialogueState] = OrderedDict()
        # --- issue 6: live handoff (bot/staff/handoff.py HandoffRegistry), set by the staff console ---
        self.handoff: HandoffHook | None = None

    # ------------------------------------------------------------ public API
    async def handle_message(self, *, sender_id: str, text: str,
                             metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        metadata = dict(metadata or {})
        channel = str(metadata.get("channel") or "rest")
        # Issue 14: the channel session an identity check binds to. Channels set their own;
        # in-process callers (the terminal chat, scripts) are one local session per channel.
        metadata.setdefault("session", f"local:{channel}")
        text = clean_text(text).strip()
        # Refusals below are answered without touching the conversation.
        if not text:
            return [self.engine.renderer.render("utter_empty_message", slots={}, channel=channel)]
        if len(text) > self.max_message_chars:
            return [self.engine.renderer.render(
                "utter_message_too_long", slots={}, channel=channel,
                variables={"limit": self.max_message_chars, "length": len(text)})]
        warnings: list[BotMessage] = []
        if self.phi_scanner is not None:
            finding = self.phi_scanner(text)
            if finding.kinds:
                # Only the redacted text goes further: not to the NLU, the store or a ticket.
                text = finding.text
                metadata["phi_redacted"] = list(finding.kinds)
                warnings.append(self.engine.renderer.render(
                    "utter_phi_warning", slots={}, channel=channel,
                    variables={"kinds": list(finding.kinds)}))
        # --- issue 6: while an agent holds the conversation, store the message for them, say nothing ---
        if self.handoff is not None:
            held = await self.handoff.intercept(sender_id=sender_id, text=text, channel=channel, metadata=metadata)
            if held is not None:
                return warnings + held
        # An agent relaying a caller ("she says it still fails") is understood as the caller's words.
        relayed = self.engine.repair.relayed(text)
        parse = self.interpreter.parse(relayed or text)
        if relayed:
            parse["text"] = text
            metadata["relayed_as"] = relayed
        messages = await self._turn(sender_id, parse, channel=channel, metadata=metadata, prefix=warnings)
        if self.handoff is not None:  # issue 6: "I want a person" during opening hours joins the queue
            messages += await self.handoff.after_turn(sender_id=sender_id, intent=str(parse["intent"]["name"]),
                                                      channel=channel)
        return messages

    async def trigger_intent(self, *, sender_id: str, intent: str, entities: dict[str, Any],
                             metadata: dict[str, Any]) -> list[BotMessage]:
        """A turn started by the system, e.g. a test-call outcome; pushed to live listeners."""
        parse = {
            "text": None,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": [{"entity": k, "value": clean_text(v) if isinstance(v, str) else v,
                          "start": 0, "end": 0, "extractor": "external"}
                         for k, v in entities.items()],
            "intent_ranking": [{"name": intent, "confidence": 1.0}],
            "is_external": True,
        }
        metadata = {**metadata, "is_external": True, "session": None}  # issue 14: verifies nobody
        channel = str(metadata.get("channel") or "rest")
        messages = await self._turn(sender_id, parse, channel=channel, metadata=metadata, prefix=[])
        # Live listeners (another tab, a Slack post) get what is stored: never a secret.
        await self.live.publish(sender_id, [m.as_stored().as_dict() for m in messages])
        return messages

    async def move_form(self, *, from_sender: str, to_sender: str, carry: Iterable[str], channel: str,
                        note: BotMessage, opening: list[BotMessage]) -> list[BotMessage]:
        """Goes on with the form active in one conversation in another, e.g. a ticket form asked
        for in a Slack channel thread continues in the user's DM, so contact details stay out of
        the channel. The source's form is closed and ``note`` said there; the target gets the
        ``carry`` slots that are set, ``continued_from`` (the source, for the ticket's
        transcript), the form and its pending question; ``opening`` (what the source's turn
        said) is said there and returned, to be shown in the target."""
        async with self.locks.hold(from_sender):
            source = self._load(from_sender)
            loop, requested = source.active_loop, source.slot("requested_slot")
            if loop is None:
                return []
            values = {name: source.slot(name) for name in carry if source.slot(name) is not None}
            now = self.clock.now().timestamp()
            closing = [{"event": "active_loop", "name": None, "timestamp": now},
                       {"event": "slot", "name": "requested_slot", "value": None, "timestamp": now},
                       note.as_event(now)]
            source.apply_all(closing)
            self.store.append(from_sender, closing, channel=channel, latest_intent=None, now=self.clock.now())
            self._remember(from_sender, source)
        async with self.locks.hold(to_sender):
            target = self._load(to_sender)
            opened = self._session_start(target, now)
            opened += [{"event": "slot", "name": name, "value": value, "timestamp": now}
                       for name, value in {**values, "continued_from": from_sender}.items()]
            opened += [{"event": "active_loop", "name": loop, "timestamp": now},
                       {"event": "slot", "name": "requested_slot", "value": requested, "timestamp": now}]
            opened += [message.as_event(now) for message in opening]
            target.apply_all(opened)
            self.store.append(to_sender, opened, channel=channel, latest_intent=None, now=self.clock.now())
            self._remember(to_sender, target)
        return opening

    def state(self, sender_id: str) -> DialogueState | None:
        events = self.store.load(sender_id)
        return DialogueState.from_events(sender_id, events) if events else None

    # -------------------------------------------------------------- internals
    async def _turn(self, sender_id: str, parse: dict[str, Any], *, channel: str,
                    metadata: dict[str, Any], prefix: list[BotMessage]) -> list[BotMessage]:
        async with self.locks.hold(sender_id):
            started = time.perf_counter()
            state = self._load(sender_id)
            now = self.clock.now().timestamp()
            start = len(state.events)
            state.apply_all(self._session_start(state, now))
            state.apply({"event": "user", "text": parse.get("text"), "timestamp": now,
                         "parse_data": {k: parse[k] for k in ("intent", "entities", "intent_ranking")},
                         "metadata": metadata, "input_channel": channel,
                         "message_id": uuid.uuid4().hex})
            for warning in prefix:
                state.apply(warning.as_event(now))
            answered_slot = state.slot("requested_slot") if state.active_loop else None
            turn = Turn(state=state, parse=parse, channel=channel, timestamp=now)
            try:
                messages = await self.engine.run_turn(turn)
            except Exception:
                # The turn is not stored, so the conversation is as it was before it.
                self._cache.pop(sender_id, None)
                raise
            new_events = state.events[start:]
            self._mask_sensitive(new_events, state, answered=answered_slot)
            self.store.append(sender_id, new_events, channel=channel,
                              latest_intent=str(parse["intent"]["name"]), now=self.clock.now())
            self._remember(sender_id, state)
            if self.observer is not None:
                self.observer(channel=channel, events=new_events, seconds=time.perf_counter() - started)
            return prefix + messages

    def _session_start(self, state: DialogueState, now: float) -> list[dict[str, Any]]:
        """A session_started event when the conversation is new or has been idle past the expiry."""
        last = state.events[-1].get("timestamp") if state.events else None
        if last is None or now - float(last) > self.session_expiry_seconds:
            return [{"event": "session_started", "timestamp": now}]
        return []

    def _mask_sensitive(self, events: list[dict[str, Any]], state: DialogueState, *,
                        answered: Any) -> None:
        """Security answers and codes are checked in memory, then kept out of storage.

        A slot flagged `sensitive: true` keeps its final value (a validator replaces an
        answer with "[provided]"); the raw candidate and the user's typed text are masked.
        """
        sensitive = self.engine.sensitive_slots
        if not sensitive:
            return
        mask = "[hidden]"
        for event in events:
            kind = event.get("event")
            if kind == "slot" and event.get("name") in sensitive and event.get("value") is not None \
                    and event.get("value") != state.slots.get(event["name"]):
                event["value"] = mask
            elif kind == "user" and answered in sensitive:
                event["text"] = mask
                parse_data = event.get("parse_data") or {}
                parse_data["entities"] = []

    def _load(self, sender_id: str) -> DialogueState:
        cached = self._cache.get(sender_id)
        if cached is not None:
            last_seq = max((int(e.get("_seq") or 0) for e in cached.events[-1:]), default=0)
            # Another worker may have taken turns since; pick up only what is new.
            cached.apply_all(self.store.load(sender_id, after_seq=last_seq))
            self._cache.move_to_end(sender_id)
            return cached
        return DialogueState.from_events(sender_id, self.store.load(sender_id))

    def _remember(self, sender_id: str, state: DialogueState) -> None:
        self._cache[sender_id] = state
        self._cache.move_to_end(sender_id)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
