"""The dialogue engine: one user turn in, events and bot messages out.

Order of precedence in a turn, and why:
1. commands (cancel, start over, go back, done, resume) work anywhere, so a user is never stuck;
2. an active form takes the message as an answer when a slot mapping accepts it;
3. an active walkthrough treats "yes/done" as the next step and "no" as "I got an error";
4. a low-confidence guess is never acted on: the user is asked to choose;
5. otherwise the first matching rule answers, and an interrupted walkthrough is offered back.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from bot.dialogue.action_runner import ActionRunner
from bot.dialogue.domain import Condition, Domain, Form, Rule, Step
from bot.dialogue.responses import BotMessage, ResponseRenderer
from bot.dialogue.tracker import DialogueState
from bot.errors import ConfigError
from bot.knowledge.articles import KnowledgeBase

log = logging.getLogger(__name__)

COMMANDS = ("cancel", "restart", "back", "next", "resume")
# Bookkeeping slots owned by the engine.
WALKTHROUGH, STEP, PAUSED, REQUESTED, FALLBACKS = (
    "walkthrough", "walkthrough_step", "walkthrough_paused", "requested_slot", "fallback_count")
_MAX_FOLLOWUPS = 8
_PUNCT = re.compile(r"[^\w\s']+")


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
    def entities(self) -> list[dict[str, Any]]:
        return list(self.parse.get("entities") or [])

    def event(self, event: dict[str, Any]) -> None:
        event.setdefault("timestamp", self.timestamp)
        self.state.apply(event)

    def set_slot(self, name: str, value: Any) -> None:
        if self.state.slot(name) != value or name not in self.state.slots:
            self.event({"event": "slot", "name": name, "value": value})


class DialogueEngine:
    def __init__(self, *, domain: Domain, kb: KnowledgeBase, runner: ActionRunner,
                 known_intents: frozenset[str], fallback_threshold: float,
                 ambiguity_threshold: float) -> None:
        self.domain = domain
        self.renderer = ResponseRenderer(domain)
        self.kb = kb
        self.runner = runner
        self.fallback_threshold = fallback_threshold
        self.ambiguity_threshold = ambiguity_threshold
        self.rasa_domain = domain.as_rasa_domain()
        self._command_phrases = {
            _normalise(p): name for name, phrases in domain.commands.items() for p in phrases
        }
        rule_intents = {i for r in domain.rules if r.when.intents for i in r.when.intents}
        self.known_intents = frozenset(known_intents | rule_intents | set(COMMANDS))
        self.sensitive_slots = frozenset(n for n, spec in domain.slots.items() if spec.get("sensitive"))
        self._check_actions()

    def _check_actions(self) -> None:
        steps = [s for r in self.domain.rules for s in r.do]
        steps += [s for w in self.domain.walkthroughs.values() for st in w.steps for s in st]
        steps += [s for f in self.domain.forms.values() for s in f.submit]
        for step in steps:
            if step.kind == "action" and not self.runner.knows(step.value):
                raise ConfigError(f"flows name action {step.value}, which is not registered")
            if step.kind == "article" and not isinstance(step.value, dict):
                self.kb.get(step.value)  # raises NotFound at start-up, not mid-conversation

    # ------------------------------------------------------------------ turn
    async def run_turn(self, turn: Turn) -> list[BotMessage]:
        command = self._command(turn)
        if command and await self._run_command(turn, command):
            return turn.messages
        if turn.parse.get("is_payload") and turn.intent not in self.known_intents:
            self._utter(turn, "utter_unknown_option")
            return turn.messages
        self._fill_slots_from_entities(turn)
        form = self.domain.forms.get(turn.state.active_loop or "")
        if form and await self._form_answer(turn, form):
            self._offer_resume(turn)
            return turn.messages
        if turn.state.slot(WALKTHROUGH) and not form and not turn.state.slot(PAUSED):
            if turn.intent == "affirm":
                await self._advance(turn, +1)
                return turn.messages
            if turn.intent == "deny":
                turn.parse["intent"] = {"name": "walkthrough_error", "confidence": 1.0}
        if self._is_uncertain(turn):
            self._clarify(turn)
            return turn.messages
        turn.set_slot(FALLBACKS, 0) if turn.state.slot(FALLBACKS) else None
        await self._answer(turn, form)
        self._offer_resume(turn)
        return turn.messages

    async def _answer(self, turn: Turn, form: Form | None) -> None:
        rule = self._match(turn)
        if rule is None:
            self._utter(turn, "utter_default")
        else:
            turn.asked = turn.asked or rule.asks
            await self._execute(turn, rule.do)
        if form is not None and turn.state.active_loop == form.name:
            # A question asked in the middle of a form: answer it, then ask again.
            await self._ask(turn, form, str(turn.state.slot(REQUESTED) or form.required_slots[0]), reask=True)

    def _offer_resume(self, turn: Turn) -> None:
        """After a digression from a walkthrough, offer to pick it up again."""
        name = turn.state.slot(WALKTHROUGH)
        if not name or turn.asked or turn.state.active_loop or turn.state.slot(PAUSED):
            return
        turn.set_slot(PAUSED, True)
        walkthrough = self.domain.walkthroughs[name]
        self._utter(turn, "utter_offer_resume", title=walkthrough.title,
                    number=int(turn.state.slot(STEP) or 0) + 1, total=len(walkthrough.steps))

    # -------------------------------------------------------------- matching
    def _match(self, turn: Turn) -> Rule | None:
        present = {e["entity"] for e in turn.entities}
        for rule in self.domain.rules:
            if _matches(rule.when, turn.intent, turn.state.slots, present):
                return rule
        return None

    def _is_uncertain(self, turn: Turn) -> bool:
        if turn.parse.get("is_payload") or turn.parse.get("is_external"):
            return False
        ranking = turn.parse.get("intent_ranking") or []
        confidence = float(turn.parse.get("intent", {}).get("confidence") or 0.0)
        if confidence < self.fallback_threshold:
            return True
        if len(ranking) > 1 and confidence - float(ranking[1]["confidence"]) < self.ambiguity_threshold:
            return True
        return False

    def _clarify(self, turn: Turn) -> None:
        failures = int(turn.state.slot(FALLBACKS) or 0) + 1
        turn.set_slot(FALLBACKS, failures)
        if failures >= 2:
            turn.set_slot(FALLBACKS, 0)
            self._utter(turn, "utter_fallback_escalate")
            return
        known = {e["entity"]: e["value"] for e in turn.entities
                 if e["entity"] in ("error_code", "call_failure", "mfa_method")}
        suffix = json.dumps(known, separators=(",", ":")) if known else ""
        buttons: list[dict[str, str]] = []
        for item in (turn.parse.get("intent_ranking") or [])[:4]:
            name = item["name"]
            label = self.domain.intent_labels.get(name)
            if label and name != "out_of_scope" and len(buttons) < 3:
                buttons.append({"title": label, "payload": f"/{name}{suffix}"})
        message = self._render(turn, "utter_clarify")
        message.buttons = buttons + message.buttons
        turn.messages.append(message)
        turn.event(message.as_event(turn.timestamp))

    # -------------------------------------------------------------- commands
    def _command(self, turn: Turn) -> str | None:
        if turn.parse.get("is_payload"):
            return turn.intent if turn.intent in COMMANDS else None
        return self._command_phrases.get(_normalise(str(turn.parse.get("text") or "")))

    async def _run_command(self, turn: Turn, command: str) -> bool:
        """Carry out a command; False when a typed "done"/"continue" had nothing to act on."""
        state = turn.state
        form = self.domain.forms.get(state.active_loop or "")
        walkthrough = state.slot(WALKTHROUGH)
        if command in ("next", "resume") and not (form or walkthrough):
            if not turn.parse.get("is_payload"):
                return False
            self._utter(turn, "utter_nothing_to_resume")
            return True
        if command == "cancel":
            if form:
                self._deactivate(turn)
                self._utter(turn, "utter_form_cancelled")
            elif walkthrough:
                self._end_walkthrough(turn)
                self._utter(turn, "utter_walkthrough_cancelled")
            else:
                self._utter(turn, "utter_nothing_to_cancel")
        elif command == "restart":
            if walkthrough and not form:
                await self._show_step(turn, walkthrough, 0)
            else:
                turn.event({"event": "restart"})
                self._utter(turn, "utter_restarted")
        elif command == "back":
            if form:
                await self._form_back(turn, form)
            elif walkthrough:
                await self._advance(turn, -1)
            else:
                self._utter(turn, "utter_nothing_to_go_back_to")
        elif command == "next" and walkthrough and not form:
            await self._advance(turn, 0 if state.slot(PAUSED) else +1)
        elif form:  # "next" or "resume" inside a form: ask the open question again
            await self._ask(turn, form, str(state.slot(REQUESTED) or form.required_slots[0]), reask=True)
        else:  # resume a paused walkthrough
            await self._advance(turn, 0)
        return True

    # ---------------------------------------------------------- walkthroughs
    async def _start_walkthrough(self, turn: Turn, name: str) -> None:
        await self._show_step(turn, name, 0)

    async def _advance(self, turn: Turn, delta: int) -> None:
        name = str(turn.state.slot(WALKTHROUGH))
        walkthrough = self.domain.walkthroughs[name]
        index = max(0, int(turn.state.slot(STEP) or 0) + delta)
        if index >= len(walkthrough.steps):
            self._end_walkthrough(turn)
            await self._execute(turn, walkthrough.done)
            return
        await self._show_step(turn, name, index)

    async def _show_step(self, turn: Turn, name: str, index: int) -> None:
        walkthrough = self.domain.walkthroughs[name]
        turn.asked = True
        turn.set_slot(WALKTHROUGH, name)
        turn.set_slot(STEP, index)
        turn.set_slot(PAUSED, False)
        first = len(turn.messages)
        await self._execute(turn, walkthrough.steps[index], record=False)
        progress = self._render(turn, "utter_walkthrough_progress", title=walkthrough.title,
                                number=index + 1, total=len(walkthrough.steps)).text or ""
        step_messages = turn.messages[first:]
        if not step_messages:
            step_messages = [BotMessage(text="")]
            turn.messages.append(step_messages[0])
        step_messages[0].text = f"{progress}\n\n{step_messages[0].text or ''}".strip()
        step_messages[-1].buttons = step_messages[-1].buttons + [
            {"title": b["title"], "payload": b["payload"]}
            for b in self.domain.walkthrough_buttons
            if not (b.get("skip_on_first") and index == 0)
        ]
        for message in step_messages:
            message.custom = {**(message.custom or {}),
                              "walkthrough": {"name": name, "step": index + 1, "total": len(walkthrough.steps)}}
            turn.event(message.as_event(turn.timestamp))

    def _end_walkthrough(self, turn: Turn) -> None:
        for slot in (WALKTHROUGH, STEP, PAUSED):
            turn.set_slot(slot, None)

    # ------------------------------------------------------------------ forms
    async def _activate_form(self, turn: Turn, name: str) -> None:
        form = self.domain.forms[name]
        turn.event({"event": "active_loop", "name": name})
        # Slots the conversation already knows are re-set so the validator checks them.
        for slot in form.required_slots:
            if turn.state.slot(slot) is not None:
                turn.event({"event": "slot", "name": slot, "value": turn.state.slot(slot)})
        await self._validate_and_continue(turn, form, requested_before=None)

    async def _form_answer(self, turn: Turn, form: Form) -> bool:
        requested = str(turn.state.slot(REQUESTED) or form.required_slots[0])
        candidates = self._candidates(turn, form, requested)
        if not candidates:
            return False
        for slot, value in candidates.items():
            turn.event({"event": "slot", "name": slot, "value": value})
        await self._validate_and_continue(turn, form, requested_before=requested)
        return True

    def _candidates(self, turn: Turn, form: Form, requested: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for slot in form.required_slots:
            for mapping in form.mappings.get(slot, ()):
                if mapping.intent is not None and turn.intent not in mapping.intent:
                    continue
                if turn.intent in mapping.not_intent:
                    continue
                if mapping.from_entity:
                    values = [e["value"] for e in turn.entities if e["entity"] == mapping.from_entity]
                    if values and (slot == requested or turn.state.slot(slot) is None):
                        found[slot] = values[0]
                        break
                elif mapping.from_text and slot == requested:
                    found[slot] = turn.parse.get("text")
                    break
        return found

    async def _validate_and_continue(self, turn: Turn, form: Form, *, requested_before: str | None) -> None:
        validator = f"validate_{form.name}"
        spoke = len(turn.messages)
        explicit_next: Any = ...
        if self.runner.knows(validator):
            events = await self._run_action(turn, validator)
            for event in events:
                if event.get("event") == "slot" and event.get("name") == REQUESTED:
                    explicit_next = event.get("value")
        if turn.state.active_loop != form.name:
            return  # the validator ended the form (for example after too many tries)
        validator_spoke = len(turn.messages) > spoke
        if explicit_next is ...:
            explicit_next = next((s for s in form.required_slots if turn.state.slot(s) is None), None)
        if explicit_next is None:
            self._deactivate(turn)
            await self._execute(turn, form.submit)
            return
        # A validator that explained the problem has already asked again, in other words.
        if not (validator_spoke and explicit_next == requested_before):
            await self._ask(turn, form, str(explicit_next))
        else:
            turn.asked = True
            turn.set_slot(REQUESTED, explicit_next)

    async def _ask(self, turn: Turn, form: Form, slot: str, *, reask: bool = False) -> None:
        turn.asked = True
        turn.set_slot(REQUESTED, slot)
        for name in (f"action_ask_{form.name}_{slot}", f"action_ask_{slot}"):
            if self.runner.knows(name):
                await self._run_action(turn, name)
                return
        for name in (f"utter_ask_{form.name}_{slot}", f"utter_ask_{slot}"):
            if name in self.renderer:
                if reask and "utter_form_return" in self.renderer:
                    self._utter(turn, "utter_form_return")
                self._utter(turn, name)
                return
        raise ConfigError(f"form {form.name} has no question for slot {slot}")

    async def _form_back(self, turn: Turn, form: Form) -> None:
        requested = str(turn.state.slot(REQUESTED) or form.required_slots[0])
        order = list(form.required_slots)
        index = order.index(requested) if requested in order else 0
        previous = order[max(0, index - 1)]
        turn.set_slot(previous, None)
        await self._ask(turn, form, previous)

    def _deactivate(self, turn: Turn) -> None:
        turn.event({"event": "active_loop", "name": None})
        turn.set_slot(REQUESTED, None)

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
                message = BotMessage(text=f"**{article.title}**\n\n{article.body.strip()}",
                                     custom={"article": article.id})
                turn.messages.append(message)
                if record:
                    turn.event(message.as_event(turn.timestamp))
            elif step.kind == "action":
                await self._run_action(turn, step.value, record=record)
            elif step.kind == "form":
                await self._activate_form(turn, step.value)
            elif step.kind == "walkthrough":
                await self._start_walkthrough(turn, step.value)
            elif step.kind == "set":
                for name, value in dict(step.value).items():
                    turn.set_slot(name, value)

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
            message = self._from_action_response(turn, response)
            turn.messages.append(message)
            if record:
                turn.event(message.as_event(turn.timestamp))
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

    def _article(self, turn: Turn, spec: Any) -> Any:
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
        message = self._render(turn, name, **variables)
        turn.messages.append(message)
        if record:
            turn.event(message.as_event(turn.timestamp))

    def _fill_slots_from_entities(self, turn: Turn) -> None:
        for slot, spec in self.domain.slots.items():
            entity = spec.get("from_entity")
            if not entity:
                continue
            values = [e["value"] for e in turn.entities if e["entity"] == entity]
            if values:
                turn.set_slot(slot, values[-1])


def _normalise(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def _matches(cond: Condition, intent: str, slots: dict[str, Any], entities: set[str]) -> bool:
    if cond.intents is not None and intent not in cond.intents:
        return False
    if not cond.entities <= entities:
        return False
    for name, expected in cond.slots:
        value = slots.get(name)
        if expected == "*":
            if value is None:
                return False
        elif expected is None:
            if value is not None:
                return False
        elif isinstance(expected, list):
            if value not in expected:
                return False
        elif value != expected:
            return False
    return True
