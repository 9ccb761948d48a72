"""A conversation's state, derived from its Rasa-style event list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

# Events that wipe slots and loops, as in Rasa.
_RESETS = frozenset({"restart", "session_started"})


@dataclass
class DialogueState:
    sender_id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    active_loop: str | None = None
    latest_message: dict[str, Any] = field(default_factory=dict)
    latest_action_name: str | None = None
    paused: bool = False

    @classmethod
    def from_events(cls, sender_id: str, events: Iterable[dict[str, Any]]) -> "DialogueState":
        state = cls(sender_id)
        state.apply_all(events)
        return state

    def apply_all(self, events: Iterable[dict[str, Any]]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        kind = event.get("event")
        if kind == "slot":
            self.slots[event["name"]] = event.get("value")
        elif kind in _RESETS:
            self.slots = {}
            self.active_loop = None
        elif kind == "active_loop":
            self.active_loop = event.get("name")
        elif kind == "user":
            self.latest_message = {
                "text": event.get("text"),
                "intent": (event.get("parse_data") or {}).get("intent", {}),
                "entities": (event.get("parse_data") or {}).get("entities", []),
                "intent_ranking": (event.get("parse_data") or {}).get("intent_ranking", []),
                "metadata": event.get("metadata") or {},
            }
        elif kind == "action":
            self.latest_action_name = event.get("name")
        elif kind == "pause":
            self.paused = True
        elif kind == "resume":
            self.paused = False

    def slot(self, name: str) -> Any:
        return self.slots.get(name)

    def as_rasa_tracker(self) -> dict[str, Any]:
        return {
            "sender_id": self.sender_id,
            "slots": dict(self.slots),
            "latest_message": self.latest_message,
            "events": list(self.events),
            "paused": self.paused,
            "followup_action": None,
            "active_loop": {"name": self.active_loop} if self.active_loop else {},
            "latest_action_name": self.latest_action_name,
            "latest_event_time": self.events[-1].get("timestamp") if self.events else None,
        }
