"""Guided walkthroughs: one step a message, with Done / I got an error / Go back / Start over."""

from __future__ import annotations

from bot.dialogue.execution import EngineBase
from bot.dialogue.responses import BotMessage
from bot.dialogue.turn import PAUSED, STEP, WALKTHROUGH, Turn
from bot.knowledge.embeddings import TextEmbeddings
from bot.knowledge.search import Bm25Index, Document

# How well a message must match a step's text (BM25 + embeddings) to say "I'm at / I did this
# step", and by how much it must beat the next best step.
STEP_MATCH, STEP_LEAD = 4.5, 1.0


class WalkthroughsMixin(EngineBase):
    _step_indexes: dict[str, tuple[Bm25Index, TextEmbeddings]]

    def _index_steps(self) -> None:
        """One small index a walkthrough, over what each step says, to find the step a user describes."""
        self._step_indexes = {}
        for name, walkthrough in self.domain.walkthroughs.items():
            texts = [" ".join(self.renderer.render(step.value, slots={}).text or ""
                              for step in steps if step.kind == "utter") for steps in walkthrough.steps]
            self._step_indexes[name] = (Bm25Index([Document(key=str(i), fields=((1, text),))
                                                   for i, text in enumerate(texts)]), TextEmbeddings(texts))

    def _described_step(self, turn: Turn, name: str) -> int | None:
        """The step the message describes being at or having done ("I'm on the page with the barcode")."""
        if not (turn.typed and self.repair.tells_progress(turn.text)):
            return None
        index, embeddings = self._step_indexes[name]
        scores = index.scores(turn.text) + embeddings.scores(turn.text)
        ranked = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
        best, second = (float(scores[i]) for i in (ranked + ranked)[:2])
        if best >= STEP_MATCH and (len(ranked) < 2 or best - second >= STEP_LEAD):
            return ranked[0]
        return None

    async def _start_walkthrough(self, turn: Turn, name: str) -> None:
        topic = self.domain.walkthroughs[name].topic
        if topic:
            self._set_topic(turn, topic, None)
        # "Help me finish the app setup, I'm on the page with the code": start where they are.
        await self._show_step(turn, name, self._described_step(turn, name) or 0)

    async def _walkthrough_turn(self, turn: Turn) -> bool:
        """Inside a walkthrough, "done"/"yes"/"what's next?" is the next step; "no" is an error."""
        if not turn.state.slot(WALKTHROUGH) or turn.state.active_loop:
            return False
        paused = bool(turn.state.slot(PAUSED))
        if turn.typed and self.repair.is_continuation(turn.text):
            # "ok, both numbers are in. next?", also after a digression: they did the step, go on;
            # "I scanned the barcode, what now?" names a later step they did: go on from there.
            done = self._described_step(turn, str(turn.state.slot(WALKTHROUGH)))
            current = int(turn.state.slot(STEP) or 0)
            # Only a clear jump ahead counts: the step after this one is what "next" means anyway.
            await self._advance(turn, (done - current + 1) if done is not None and done > current + 1 else +1)
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
