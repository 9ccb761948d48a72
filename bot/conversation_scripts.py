"""Conversation scripts (tests/conversations/*.yml) run through the real Assistant.

Used by `helpdesk test conversations` and by the pytest suite, so a script that passes in
one passes in the other. Format:

    - name: E05 gets the 60-minute answer
      fixtures: [demo_accounts]          # optional
      steps:
        - user: I got error E05
          expect:
            intent: report_error         # the NLU's reading of this message
            contains: ["60 minutes"]     # case-insensitive, across the reply's texts
            not_contains: []
            buttons: ["Yes, that worked"]
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import yaml

from bot.assistant import Assistant
from bot.errors import ConfigError

Fixture = Callable[[], Awaitable[None] | None]


@dataclass
class Script:
    name: str
    steps: list[dict[str, Any]]
    fixtures: list[str] = field(default_factory=list)
    source: str = ""


@dataclass
class ScriptResult:
    script: Script
    failures: list[str]
    transcript: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures


def load_scripts(directory: Path) -> list[Script]:
    scripts = []
    for path in sorted(directory.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(doc, list):
            raise ConfigError(f"{path}: a conversation file holds a list of conversations")
        for item in doc:
            if not isinstance(item, dict) or "name" not in item or not item.get("steps"):
                raise ConfigError(f"{path}: each conversation needs a name and steps")
            scripts.append(Script(name=str(item["name"]), steps=list(item["steps"]),
                                  fixtures=list(item.get("fixtures") or []), source=path.name))
    return scripts


async def run_script(assistant: Assistant, script: Script, *, channel: str = "rest") -> ScriptResult:
    sender = f"script-{uuid.uuid4().hex[:12]}"
    failures: list[str] = []
    transcript: list[str] = []
    for number, step in enumerate(script.steps, start=1):
        text = str(step.get("user", ""))
        parse = assistant.interpreter.parse(text) if text.strip() else None
        messages = await assistant.handle_message(sender_id=sender, text=text, metadata={"channel": channel})
        transcript.append(f"user: {text}")
        transcript.extend(f"bot: {m.text or ''} {[b['title'] for b in m.buttons]}" for m in messages)
        expect = step.get("expect") or {}
        # Whitespace is folded: a phrase wrapped across lines in a response still counts.
        said = " ".join(" ".join(m.text or "" for m in messages).split()).lower()
        titles = [b["title"] for m in messages for b in m.buttons]
        where = f"step {number} ({text!r})"
        if "intent" in expect and parse is not None and parse["intent"]["name"] != expect["intent"]:
            failures.append(f"{where}: intent {parse['intent']['name']}, expected {expect['intent']}")
        for phrase in expect.get("contains") or []:
            if str(phrase).lower() not in said:
                failures.append(f"{where}: reply lacks {phrase!r}")
        for phrase in expect.get("not_contains") or []:
            if str(phrase).lower() in said:
                failures.append(f"{where}: reply must not contain {phrase!r}")
        for title in expect.get("buttons") or []:
            if title not in titles:
                failures.append(f"{where}: no button {title!r} (got {titles})")
    return ScriptResult(script, failures, transcript)
