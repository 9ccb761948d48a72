"""Commands that work anywhere: cancel, start over, go back, next, resume, and "say that again"."""

from __future__ import annotations

import re

from bot.dialogue.execution import EngineBase
from bot.dialogue.responses import BotMessage
from bot.dialogue.turn import PAUSED, REQUESTED, WALKTHROUGH, Turn

COMMANDS = ("cancel", "restart", "back", "next", "resume")
_PUNCT = re.compile(r"[^\w\s']+")


class CommandsMixin(EngineBase):
    _command_phrases: dict[str, str]

    def _command(self, turn: Turn) -> str | None:
        if turn.parse.get("is_payload"):
            return turn.intent if turn.intent in COMMANDS else None
        return self._command_phrases.get(normalise(turn.text))

    async def _command_turn(self, turn: Turn) -> bool:
        command = self._command(turn)
        return bool(command) and await self._run_command(turn, str(command))

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
            self._cancel_active(turn)
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

    def _cancel_active(self, turn: Turn) -> None:
        """Stop the form, else the walkthrough, in progress; say so and offer what next."""
        form = self.domain.forms.get(turn.state.active_loop or "")
        if form:
            self._deactivate(turn)
            if form.cancelled:
                for step in form.cancelled:  # only `set` and `utter` steps make sense here
                    if step.kind == "set":
                        for name, value in dict(step.value).items():
                            turn.set_slot(name, value)
                    elif step.kind == "utter":
                        self._utter(turn, step.value)
            else:
                self._utter(turn, "utter_form_cancelled")
        elif turn.state.slot(WALKTHROUGH):
            self._end_walkthrough(turn)
            self._utter(turn, "utter_walkthrough_cancelled")
        else:
            self._utter(turn, "utter_nothing_to_cancel")

    def _repeat_turn(self, turn: Turn) -> bool:
        """ "Can you say that again?": the assistant's last answer, as it was."""
        if not (turn.typed and self.repair.is_repeat(turn.text)):
            return False
        last = _last_answer(turn.state.events)
        if not last:
            return False
        self._utter(turn, "utter_repeating")
        for message in last:
            self._say(turn, message)
        turn.asked = True
        return True


def _last_answer(events: list[dict[str, object]]) -> list[BotMessage]:
    """The bot messages between the user's previous message and this one."""
    messages: list[BotMessage] = []
    users = 0
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            users += 1
            if users == 2:
                break
        elif kind == "bot" and users == 1:
            messages.append(BotMessage.from_event(event))
    return list(reversed(messages))


def normalise(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())
