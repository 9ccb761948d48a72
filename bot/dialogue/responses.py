"""Bot messages and the Jinja2 rendering of named responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from bot.dialogue.domain import Domain
from bot.errors import ConfigError


@dataclass
class BotMessage:
    text: str | None = None
    buttons: list[dict[str, str]] = field(default_factory=list)
    image: str | None = None
    custom: dict[str, Any] | None = None
    # Issue 14: a message that carries a secret (an activation code) says so by this
    # placeholder. The text, image and custom go to the user in the live reply only; the
    # stored event, and so history, the tracker, staff views and exports, hold the placeholder.
    stored: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.text is not None:
            out["text"] = self.text
        if self.buttons:
            out["buttons"] = self.buttons
        if self.image:
            out["image"] = self.image
        if self.custom:
            out["custom"] = self.custom
        return out

    def as_event(self, timestamp: float) -> dict[str, Any]:
        if self.stored is not None:
            return {"event": "bot", "timestamp": timestamp, "text": self.stored,
                    "data": {"buttons": self.buttons or None, "image": None, "custom": None}}
        return {"event": "bot", "timestamp": timestamp, "text": self.text,
                "data": {"buttons": self.buttons or None, "image": self.image, "custom": self.custom}}

    def as_stored(self) -> "BotMessage":
        """What may be kept or sent to anyone but the live reply's reader: the placeholder."""
        if self.stored is None:
            return self
        return BotMessage(text=self.stored, buttons=list(self.buttons))

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> "BotMessage":
        data = event.get("data") or {}
        return cls(text=event.get("text"), buttons=list(data.get("buttons") or []),
                   image=data.get("image"), custom=data.get("custom"))


class _Slots(dict[str, Any]):
    """Slots for templates: one that was never set reads as None, not as an error."""

    def __missing__(self, key: str) -> None:
        return None


class ResponseRenderer:
    def __init__(self, domain: Domain) -> None:
        self._responses = domain.responses
        # Sandboxed: response files are edited by support staff, not only developers.
        self._env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                         keep_trailing_newline=False)
        self._compiled: dict[tuple[str, int, str], Any] = {}
        for name, variants in self._responses.items():
            for i, variant in enumerate(variants):
                for key in ("text", "image", "stored"):
                    if isinstance(variant.get(key), str):
                        try:
                            self._compiled[(name, i, key)] = self._env.from_string(variant[key])
                        except TemplateError as exc:
                            raise ConfigError(f"response {name}: bad template: {exc}") from exc

    def __contains__(self, name: str) -> bool:
        return name in self._responses

    def render(self, name: str, *, slots: Mapping[str, Any], channel: str = "rest",
               variables: Mapping[str, Any] | None = None) -> BotMessage:
        variants = self._responses.get(name)
        if not variants:
            raise ConfigError(f"unknown response {name}")
        # A channel-specific variant wins; otherwise the first general one (deterministic).
        index = next((i for i, v in enumerate(variants) if v.get("channel") == channel), None)
        if index is None:
            index = next((i for i, v in enumerate(variants) if not v.get("channel")), 0)
        variant = variants[index]
        context = {"slots": _Slots(slots), **(variables or {})}
        message = BotMessage()
        for key in ("text", "image", "stored"):
            template = self._compiled.get((name, index, key))
            if template is not None:
                try:
                    setattr(message, key, template.render(context).strip())
                except TemplateError as exc:
                    raise ConfigError(f"response {name}: {exc}") from exc
        message.buttons = [dict(b) for b in variant.get("buttons") or []]
        if variant.get("custom"):
            message.custom = dict(variant["custom"])
        return message
