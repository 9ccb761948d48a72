"""The dialogue engine: one user turn in, events and bot messages out.

A turn's message goes through the handlers named by `precedence:` in data/flows/core.yml,
in that order; the first that takes it answers. The order, and why:

- command: cancel, start over, go back, done, resume work anywhere, so a user is never stuck;
- repeat: "say that again" repeats the last answer, whatever was going on;
- unknown_option: a button payload nobody offered gets a polite reply and changes nothing;
- form: an active form hears cancel, skip, a question, or its answer (bot/dialogue/forms.py);
- walkthrough: "done / yes / what's next?" is the next step, "no" an error (walkthroughs.py);
- decide_by_entity: an error code, call failure or tracking number settles an unsure intent;
- follow_up: a short question about the current topic is answered from its KB passages;
- clarify: a guess too unsure to act on is answered from the KB if it can be, else "did you mean?";
- rule: the first matching rule answers; with none, the KB, then the default reply.

After the turn an interrupted form asks its question again and an interrupted walkthrough
is offered back at the same step.
"""

from __future__ import annotations

import re
from typing import Awaitable, Callable

from bot.dialogue.action_runner import ActionRunner
from bot.dialogue.answers import AnswersMixin
from bot.dialogue.commands import COMMANDS, CommandsMixin, normalise
from bot.dialogue.domain import Domain
from bot.dialogue.forms import FormsMixin
from bot.dialogue.repair import Repair
from bot.dialogue.responses import BotMessage, ResponseRenderer
from bot.dialogue.turn import REQUESTED, Turn
from bot.dialogue.walkthroughs import WalkthroughsMixin
from bot.errors import ConfigError
from bot.knowledge.articles import KnowledgeBase

__all__ = ["DialogueEngine", "Turn"]

Handler = Callable[[Turn], Awaitable[bool]]


class DialogueEngine(CommandsMixin, FormsMixin, WalkthroughsMixin, AnswersMixin):
    def __init__(self, *, domain: Domain, kb: KnowledgeBase, runner: ActionRunner,
                 known_intents: frozenset[str], fallback_threshold: float,
                 ambiguity_threshold: float) -> None:
        self.domain = domain
        self.renderer = ResponseRenderer(domain)
        self.kb = kb
        self.runner = runner
        self.repair = Repair.from_data(domain.repair)
        self.fallback_threshold = fallback_threshold
        self.ambiguity_threshold = ambiguity_threshold
        self.rasa_domain = domain.as_rasa_domain()
        self._command_phrases = {
            normalise(p): name for name, phrases in domain.commands.items() for p in phrases
        }
        rule_intents = {i for r in domain.rules if r.when.intents for i in r.when.intents}
        self.known_intents = frozenset(known_intents | rule_intents | set(COMMANDS))
        self.sensitive_slots = frozenset(n for n, spec in domain.slots.items() if spec.get("sensitive"))
        handlers: dict[str, Handler] = {
            "command": self._command_turn, "repeat": self._async(self._repeat_turn),
            "unknown_option": self._async(self._unknown_option_turn), "form": self._form_turn,
            "walkthrough": self._walkthrough_turn, "decide_by_entity": self._async(self._decide_by_entity),
            "follow_up": self._async(self._follow_up_turn), "clarify": self._async(self._clarify_turn),
            "rule": self._rule_turn,
        }
        unknown = [name for name in domain.precedence if name not in handlers]
        if unknown or not domain.precedence or domain.precedence[-1] != "rule":
            raise ConfigError(f"precedence must name handlers from {sorted(handlers)} and end with rule; "
                              f"got {domain.precedence} (unknown: {unknown})")
        self._handlers = [handlers[name] for name in domain.precedence]
        self._expansions = [(re.compile(str(item["when"]), re.IGNORECASE), str(item["add"]))
                            for item in domain.knowledge.get("expansions", [])]
        missing = [k for k in ("min_score", "topic_min_score", "confident_intent") if k not in domain.knowledge]
        if missing:
            raise ConfigError(f"knowledge: settings {missing} are missing in data/flows")
        self._check_actions()
        self._index_steps()

    @staticmethod
    def _async(handler: Callable[[Turn], bool]) -> Handler:
        async def run(turn: Turn) -> bool:
            return handler(turn)
        return run

    def _check_actions(self) -> None:
        steps = [s for r in self.domain.rules for s in r.do]
        steps += [s for w in self.domain.walkthroughs.values() for st in w.steps for s in st]
        steps += [s for f in self.domain.forms.values() for s in f.submit]
        for step in steps:
            if step.kind == "action" and not self.runner.knows(step.value):
                raise ConfigError(f"flows name action {step.value}, which is not registered")
            if step.kind == "article" and not isinstance(step.value, dict):
                self.kb.get(step.value)  # raises NotFound at start-up, not mid-conversation
        for topic in [w.topic for w in self.domain.walkthroughs.values()] + [f.topic for f in self.domain.forms.values()]:
            if topic:
                self.kb.get(topic)

    # ------------------------------------------------------------------ turn
    async def run_turn(self, turn: Turn) -> list[BotMessage]:
        form_before = self._active_form(turn)
        if not (turn.parse.get("is_payload") and turn.intent not in self.known_intents):
            self._fill_slots_from_entities(turn)
        for handler in self._handlers:
            if await handler(turn):
                break
        form = self._active_form(turn)
        if form is not None and form is form_before and not turn.asked:
            # Something else was asked in the middle of a form: it was answered; ask again.
            await self._ask(turn, form, str(turn.state.slot(REQUESTED) or form.required_slots[0]), reask=True)
        self._offer_resume(turn)
        return turn.messages

    def _unknown_option_turn(self, turn: Turn) -> bool:
        if turn.parse.get("is_payload") and turn.intent not in self.known_intents:
            self._utter(turn, "utter_unknown_option")
            turn.asked = True
            return True
        return False

    def _fill_slots_from_entities(self, turn: Turn) -> None:
        for slot, spec in self.domain.slots.items():
            entity = spec.get("from_entity")
            if not entity:
                continue
            values = [e["value"] for e in turn.entities if e["entity"] == entity]
            if values:
                turn.set_slot(slot, values[-1])
