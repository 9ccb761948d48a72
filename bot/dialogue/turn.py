"""One conversation turn as the engine works on it, and the bookkeeping slots it owns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.dialogue.responses import BotMessage
from bot.dialogue.tracker import DialogueState

# Bookkeeping slots owned by the engine.
WALKTHROUGH, STEP, PAUSED, REQUESTED, FALLBACKS = (
    "walkthrough", "walkthrough_step", "walkthrough_paused", "requested_slot", "fallback_count")
# The conversation's topic: the KB article last shown or answered from, and the passage of it.
TOPIC, TOPIC_PASSAGE = "topic", "topic_passage"
ENGINE_SLOTS = (WALKTHROUGH, STEP, PAUSED, REQUESTED, FALLBACKS, TOPIC, TOPIC_PASSAGE)


@dataclass
class Turn:
    state: DialogueState
    parse: dict[str, Any]
    channel: str
    timestamp: float
    messages: list[BotMessage] = field(default_factory=list)
    depth: int = 0
    # Set when this turn asked the user something or showed a walkthrough step; either
    # way the user has something to answer, so no "shall we resume?" offer is added.
    asked: bool = False

    @property
    def intent(self) -> str:
        return str(self.parse.get("intent", {}).get("name") or "")

    @property
    def confidence(self) -> float:
        return float(self.parse.get("intent", {}).get("confidence") or 0.0)

    @property
    def text(self) -> str:
        return str(self.parse.get("text") or "")

    @property
    def typed(self) -> bool:
        """Typed by a person, not a button payload or a system-started turn."""
        return not (self.parse.get("is_payload") or self.parse.get("is_external")) and bool(self.text)

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.parse.get("entities") or [])

    def set_intent(self, name: str) -> None:
        """The engine's reading of the message when context settles it; the stored user event
        keeps the NLU's own reading, so the training review still sees what the NLU said."""
        self.parse["intent"] = {"name": name, "confidence": 1.0}

    def event(self, event: dict[str, Any]) -> None:
        event.setdefault("timestamp", self.timestamp)
        self.state.apply(event)

    def set_slot(self, name: str, value: Any) -> None:
        if self.state.slot(name) != value or name not in self.state.slots:
            self.event({"event": "slot", "name": name, "value": value})
