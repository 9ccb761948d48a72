"""Guided walkthroughs: one step a message, with Done / I got an error / Go back / Start over."""

from __future__ import annotations

from bot.dialogue.execution import EngineBase
from bot.dialogue.responses import BotMessage
from bot.dialogue.turn import PAUSED, STEP, WALKTHROUGH, Turn


class WalkthroughsMixin(EngineBase):
    async def _start_walkthrough(self, turn: Turn, name: str) -> None:
        topic = self.domain.walkthroughs[name].topic
        if topic:
            self._set_topic(turn, topic, None)
        await self._show_step(turn, name, 0)

    async def _walkthrough_turn(self, turn: Turn) -> bool:
        """Inside a walkthrough, "done"/"yes"/"what's next?" is the next step; "no" is an error."""
        if not turn.state.slot(WALKTHROUGH) or turn.state.active_loop:
            return False
        paused = bool(turn.state.slot(PAUSED))
        if turn.typed and self.repair.is_continuation(turn.text):
            # "ok, both numbers are in. next?", also after a digression: they did the step, go on.
            await self._advance(turn, +1)
            return True
        if paused:
            return False
        if turn.intent == "affirm":
            await self._advance(turn, +1)
            return True
        if turn.intent == "deny":
            turn.set_intent("walkthrough_error")
        return False

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

    def _offer_resume(self, turn: Turn) -> None:
        """After a digression from a walkthrough, offer to pick it up again at the same step."""
        name = turn.state.slot(WALKTHROUGH)
        if not name or turn.asked or turn.state.active_loop or turn.state.slot(PAUSED):
            return
        turn.set_slot(PAUSED, True)
        walkthrough = self.domain.walkthroughs[name]
        self._utter(turn, "utter_offer_resume", title=walkthrough.title,
                    number=int(turn.state.slot(STEP) or 0) + 1, total=len(walkthrough.steps))
