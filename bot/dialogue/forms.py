"""Forms that listen: slot filling with repair.

Inside a form a message may be an answer (to the question asked, or to several at once),
a cancel in plain words, a request to skip, a question about the form, or something else
entirely. The first three are settled here; a question is answered from the form's KB
topic and the same field is asked again; anything else goes on to the rules, after which
the open question is asked again (see DialogueEngine.run_turn).
"""

from __future__ import annotations

from typing import Any

from bot.dialogue.domain import Form
from bot.dialogue.execution import EngineBase
from bot.dialogue.turn import REQUESTED, Turn
from bot.errors import ConfigError


class FormsMixin(EngineBase):
    async def _activate_form(self, turn: Turn, name: str) -> None:
        form = self.domain.forms[name]
        turn.event({"event": "active_loop", "name": name})
        # Slots the conversation already knows are re-set so the validator checks them.
        for slot in form.required_slots:
            if turn.state.slot(slot) is not None:
                turn.event({"event": "slot", "name": slot, "value": turn.state.slot(slot)})
        await self._validate_and_continue(turn, form, requested_before=None)

    def _active_form(self, turn: Turn) -> Form | None:
        return self.domain.forms.get(turn.state.active_loop or "")

    async def _form_turn(self, turn: Turn) -> bool:
        """Repair first (cancel, skip, question), then the message as an answer."""
        form = self._active_form(turn)
        if form is None:
            return False
        requested = self._requested(turn, form)
        if turn.typed and self.repair.is_cancel(turn.text) and not self._free_text_answer(turn, requested):
            self._cancel_active(turn)
            return True
        if turn.typed and self.repair.is_skip(turn.text) and not self._answers(turn, form, requested):
            await self._skip(turn, form, requested)
            return True
        if turn.typed and self._is_form_question(turn, form, requested):
            self._answer_question(turn, topics=self._topics_of(form.topic), honest=True)
            await self._ask(turn, form, requested, reask=True)
            return True
        return await self._form_answer(turn, form)

    def _free_text_answer(self, turn: Turn, requested: str) -> bool:
        """A longer answer to a free-text field ("the call drops, stop and start...") is the answer."""
        return bool(self.domain.slots.get(requested, {}).get("free_text")) and not self.repair.is_fragment(turn.text)

    def _requested(self, turn: Turn, form: Form) -> str:
        return str(turn.state.slot(REQUESTED) or form.required_slots[0])

    def _answers(self, turn: Turn, form: Form, requested: str) -> bool:
        """The message carries a typed value (an entity) for the question asked."""
        entities = {m.from_entity for m in form.mappings.get(requested, ()) if m.from_entity}
        return any(e["entity"] in entities for e in turn.entities)

    def _is_form_question(self, turn: Turn, form: Form, requested: str) -> bool:
        # "what is the NPI for?" is no last name; a question that carries the value asked
        # for ("is 919-555-0101 ok?") is still an answer.
        if self.domain.slots.get(requested, {}).get("free_text"):
            return False  # a ticket's message may well be worded as a question
        return self.repair.is_question(turn.text) and not self._answers(turn, form, requested) \
            and not self.repair.is_correction(turn.text)

    async def _skip(self, turn: Turn, form: Form, requested: str) -> None:
        if requested in form.optional:
            turn.event({"event": "slot", "name": requested, "value": ""})
            await self._validate_and_continue(turn, form, requested_before=requested)
            return
        label = self.domain.slots.get(requested, {}).get("label") or requested.replace("_", " ")
        self._utter(turn, "utter_form_field_required", field=label)
        await self._ask(turn, form, requested, reask=True)

    async def _form_answer(self, turn: Turn, form: Form) -> bool:
        requested = self._requested(turn, form)
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
        requested = self._requested(turn, form)
        order = list(form.required_slots)
        index = order.index(requested) if requested in order else 0
        previous = order[max(0, index - 1)]
        turn.set_slot(previous, None)
        await self._ask(turn, form, previous)

    def _deactivate(self, turn: Turn) -> None:
        turn.event({"event": "active_loop", "name": None})
        turn.set_slot(REQUESTED, None)
