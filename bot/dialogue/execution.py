"""Carrying out steps: responses, KB articles, custom actions, forms and walkthroughs.

The base of the engine: every other part (forms, walkthroughs, commands, answers) says
things and runs actions through these methods, so a message is recorded the same way
whoever produced it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot.dialogue.action_runner import ActionRunner
from bot.dialogue.domain import Domain, Form, Step
from bot.dialogue.repair import Repair
from bot.dialogue.responses import BotMessage, ResponseRenderer
from bot.dialogue.turn import TOPIC, TOPIC_PASSAGE, Turn
from bot.errors import ConfigError
from bot.knowledge.articles import Article, KnowledgeBase

log = logging.getLogger(__name__)

_MAX_FOLLOWUPS = 8


class EngineBase:
    domain: Domain
    renderer: ResponseRenderer
    kb: KnowledgeBase
    runner: ActionRunner
    repair: Repair
    rasa_domain: dict[str, Any]

    if TYPE_CHECKING:  # what the parts call of each other (DialogueEngine has them all)
        async def _activate_form(self, turn: Turn, name: str) -> None: ...
        async def _start_walkthrough(self, turn: Turn, name: str) -> None: ...
        async def _advance(self, turn: Turn, delta: int) -> None: ...
        async def _show_step(self, turn: Turn, name: str, index: int) -> None: ...
        def _end_walkthrough(self, turn: Turn) -> None: ...
        def _deactivate(self, turn: Turn) -> None: ...
        async def _form_back(self, turn: Turn, form: Form) -> None: ...
        async def _ask(self, turn: Turn, form: Form, slot: str, *, reask: bool = False) -> None: ...
        def _cancel_active(self, turn: Turn) -> None: ...
        def _topics_of(self, topic: str | None) -> list[str]: ...
        def _answer_question(self, turn: Turn, *, topics: list[str], honest: bool,
                             topic_only: bool = False) -> bool: ...

    # -------------------------------------------------------------- execution
    async def _execute(self, turn: Turn, steps: tuple[Step, ...], *, record: bool = True) -> None:
        for step in steps:
            if step.kind == "utter":
                self._utter(turn, step.value, record=record)
            elif step.kind == "article":
                article = self._article(turn, step.value)
                if article is None:
                    self._utter(turn, "utter_default", record=record)
                    continue
                self._show_article(turn, article, record=record)
            elif step.kind == "action":
                await self._run_action(turn, step.value, record=record)
            elif step.kind == "form":
                await self._activate_form(turn, step.value)
            elif step.kind == "walkthrough":
                await self._start_walkthrough(turn, step.value)
            elif step.kind == "set":
                for name, value in dict(step.value).items():
                    turn.set_slot(name, value)

    def _show_article(self, turn: Turn, article: Article, *, record: bool = True) -> None:
        message = BotMessage(text=f"**{article.title}**\n\n{article.body.strip()}", custom={"article": article.id})
        self._say(turn, message, record=record)
        self._set_topic(turn, article.id, None)

    def _set_topic(self, turn: Turn, article_id: str | None, passage: int | None) -> None:
        turn.set_slot(TOPIC, article_id)
        turn.set_slot(TOPIC_PASSAGE, passage)

    async def _run_action(self, turn: Turn, name: str, *, record: bool = True) -> list[dict[str, Any]]:
        result = await self.runner.run(name, tracker=turn.state.as_rasa_tracker(), domain=self.rasa_domain)
        turn.event({"event": "action", "name": name})
        followups: list[str] = []
        for event in result.events:
            kind = event.get("event")
            if kind == "followup":
                followups.append(str(event.get("name")))
                continue
            if kind == "active_loop" and event.get("name") in self.domain.forms:
                followups.append(str(event["name"]))
                continue
            event.pop("timestamp", None)
            turn.event(dict(event))
        for response in result.responses:
            self._say(turn, self._from_action_response(turn, response), record=record)
        for target in followups:
            await self._followup(turn, target)
        return result.events

    async def _followup(self, turn: Turn, target: str) -> None:
        if turn.depth >= _MAX_FOLLOWUPS:
            log.error("follow-up chain too deep at %s for %s", target, turn.state.sender_id)
            return
        turn.depth += 1
        if target in self.domain.forms:
            await self._activate_form(turn, target)
        elif target in self.domain.walkthroughs:
            await self._start_walkthrough(turn, target)
        elif target in self.renderer:
            self._utter(turn, target)
        else:
            await self._run_action(turn, target)

    def _from_action_response(self, turn: Turn, response: dict[str, Any]) -> BotMessage:
        name = response.get("response") or response.get("template")
        if name:
            reserved = {"response", "template", "text", "buttons", "image", "elements",
                        "attachment", "custom", "json_message", "recipient_id"}
            variables = {k: v for k, v in response.items() if k not in reserved}
            message = self._render(turn, str(name), **variables)
        else:
            message = BotMessage(text=response.get("text"))
        if response.get("buttons"):
            message.buttons = list(response["buttons"])
        if response.get("image"):
            message.image = response["image"]
        custom = response.get("custom") or response.get("json_message")
        if custom:
            message.custom = {**(message.custom or {}), **custom}
        return message

    def _article(self, turn: Turn, spec: Any) -> Article | None:
        """`article: e05` names one; `article: {slot: call_failure}` looks it up by value."""
        if not isinstance(spec, dict):
            return self.kb.get(str(spec))
        slot = spec.get("slot")
        value = turn.state.slot(str(slot))
        if slot == "error_code":
            return self.kb.for_error_code(str(value)) if value else None
        if slot == "call_failure":
            return self.kb.for_call_failure(str(value)) if value else None
        raise ConfigError(f"article lookup by slot {slot!r} is not supported")

    def _render(self, turn: Turn, name: str, **variables: Any) -> BotMessage:
        return self.renderer.render(name, slots=turn.state.slots, channel=turn.channel, variables=variables)

    def _utter(self, turn: Turn, name: str, *, record: bool = True, **variables: Any) -> None:
        self._say(turn, self._render(turn, name, **variables), record=record)

    def _say(self, turn: Turn, message: BotMessage, *, record: bool = True) -> None:
        turn.messages.append(message)
        if record:
            turn.event(message.as_event(turn.timestamp))
