"""Conversation repair: recognising what a message does to the conversation, not what it is about.

A cancel in plain words ("no, don't call me actually"), a request to repeat, a skip, a
correction, a question, a "what's next?", a message an agent relays for a caller: each is
found by the patterns under `repair:` in data/flows, so wording lives in data and one
detector serves every form and walkthrough. Rasa's CALM tells these apart with a language
model on every turn; here they are cheap regular expressions, consulted in the order
of `precedence:` in data/flows/core.yml (bot/dialogue/engine.py says why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.errors import ConfigError

KINDS = ("cancel", "repeat", "skip", "correction", "continuation", "question", "request", "reference", "relay",
         "progress")
_WORDS = re.compile(r"[\w']+")
_ASKING = re.compile(r"\b(if|whether|ask\w*|wants? to know)\b", re.IGNORECASE)
_RELAY_PRONOUNS = {
    "she": "I", "he": "I", "they": "I", "her": "my", "his": "my", "their": "my", "him": "me",
    "them": "me", "she's": "I'm", "he's": "I'm", "they're": "I'm", "hers": "mine", "herself": "myself",
    "himself": "myself", "shes": "I'm", "hes": "I'm",
}


@dataclass(frozen=True)
class Repair:
    """The compiled `repair:` patterns of the domain."""

    patterns: dict[str, tuple[re.Pattern[str], ...]]
    fragment_words: int = 4

    @classmethod
    def from_data(cls, raw: dict[str, Any]) -> Repair:
        unknown = sorted(set(raw) - set(KINDS) - {"fragment_words"})
        if unknown:
            raise ConfigError(f"repair: unknown kind(s) {unknown}; known: {list(KINDS)}")
        patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
        for kind in KINDS:
            try:
                patterns[kind] = tuple(re.compile(p, re.IGNORECASE) for p in raw.get(kind) or ())
            except re.error as exc:
                raise ConfigError(f"repair.{kind}: bad pattern: {exc}") from None
        return cls(patterns=patterns, fragment_words=int(raw.get("fragment_words", 4)))

    def _any(self, kind: str, text: str) -> bool:
        return any(p.search(text) for p in self.patterns[kind])

    def is_cancel(self, text: str) -> bool:
        return self._any("cancel", text)

    def is_repeat(self, text: str) -> bool:
        return self._any("repeat", text)

    def is_skip(self, text: str) -> bool:
        return self._any("skip", text)

    def is_correction(self, text: str) -> bool:
        return self._any("correction", text)

    def is_continuation(self, text: str) -> bool:
        return self._any("continuation", text)

    def is_question(self, text: str) -> bool:
        """Asks to be told something; "can you walk me through it?" is a request, not a question."""
        return (text.rstrip().endswith("?") or self._any("question", text)) and not self._any("request", text)

    def refers_back(self, text: str) -> bool:
        """Words that point at what was just said ("that", "it", "those", "she says")."""
        return self._any("reference", text)

    def tells_progress(self, text: str) -> bool:
        """Says where the user is in a task ("I'm on the page with the barcode", "I scanned it")."""
        return self._any("progress", text)

    def is_fragment(self, text: str) -> bool:
        return len(_WORDS.findall(text)) <= self.fragment_words

    def relayed(self, text: str) -> str | None:
        """An agent's "caller says she gets E05" as the caller would say it ("I get E05"), or None."""
        for pattern in self.patterns["relay"]:
            match = pattern.match(text)
            if match and match.end() < len(text):
                rest = _first_person(text[match.end():].lstrip(" :,-"))
                # "he wants to know if he has to call": the caller is asking
                if _ASKING.search(match.group(0)) and not rest.rstrip().endswith("?"):
                    rest = rest.rstrip(" .") + "?"
                return rest
        return None


def _first_person(text: str) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        return _RELAY_PRONOUNS.get(word.lower(), word)

    return _WORDS.sub(swap, text)
