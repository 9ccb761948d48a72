"""Choosing the answer: rules, follow-up questions on the current topic, and clarification.

The topic is the KB article last shown or answered from (slots `topic`, `topic_passage`).
A short question about it ("how many minutes?", "what is that one for?", "then what?")
is answered from that article's passages first and from the whole KB second,
before any fallback; when the KB has nothing good enough the assistant says the job aid
does not cover it and offers the call center or a ticket, rather than guessing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.dialogue.domain import Condition, Rule
from bot.dialogue.execution import EngineBase
from bot.dialogue.responses import BotMessage
from bot.dialogue.turn import FALLBACKS, TOPIC, TOPIC_PASSAGE, Turn
from bot.knowledge.articles import PassageHit
from bot.knowledge.passages import Passage
from bot.knowledge.search import tokenize

# A "that"/"it" question with at most this many words of its own borrows words from the
# previous turn (the user's message, and up to this much of the assistant's passage answer).
_REFERENCE_WORDS, _REFERENCE_CHARS = 2, 240
# Intents that say something about the conversation itself; never a question about a topic.
_SOCIAL = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge"})


class AnswersMixin(EngineBase):
    fallback_threshold: float
    ambiguity_threshold: float
    _expansions: list[tuple[re.Pattern[str], str]]

    # ----------------------------------------------------------------- rules
    def _match(self, turn: Turn) -> Rule | None:
        present = {e["entity"] for e in turn.entities}
        question = turn.typed and self.repair.is_question(turn.text)
        for rule in self.domain.rules:
            if _matches(rule.when, turn.intent, turn.state.slots, present, question):
                return rule
        return None

    async def _rule_turn(self, turn: Turn) -> bool:
        rule = self._match(turn)
        if rule is None:
            if not self._answer_question(turn, topics=self._topics(turn), honest=False):
                self._utter(turn, "utter_default")
            return True
        if rule.try_kb and turn.typed and self.repair.is_question(turn.text) \
                and self._answer_question(turn, topics=[], honest=False, min_score=self._knowledge("try_kb_min_score")):
            return True
        turn.asked = turn.asked or rule.asks
        await self._execute(turn, rule.do)
        return True

    # ------------------------------------------------ understanding in context
    def _decide_by_entity(self, turn: Turn) -> bool:
        """An entity that settles the answer (E05, "hung up", a tracking number) routes directly,
        so "did you mean...?" is asked only when neither the intent nor the entities decide."""
        if not turn.typed:
            return False
        if not (self._is_uncertain(turn) or turn.intent in _SOCIAL | {"out_of_scope"}):
            return False
        found = {e["entity"]: e["value"] for e in turn.entities}
        for entity, target in self.domain.deciding_entities.items():
            if entity not in found:
                continue
            if isinstance(target, dict):  # mfa_method: {among: [...], phone: enroll_phone, app: ...}
                ranked = [str(item["name"]) for item in (turn.parse.get("intent_ranking") or [])[:2]]
                if target.get("among") and not set(ranked) & set(target["among"]):
                    continue
                target = target.get(str(found[entity]))
            if target:
                turn.set_intent(str(target))
                return False  # the intent is settled; the rules answer it
        return False

    def _follow_up_turn(self, turn: Turn) -> bool:
        """A question about what was just discussed, answered from the topic's passages."""
        topic = turn.state.slot(TOPIC)
        if not (turn.typed and topic):
            return False
        text = turn.text
        if any(e["entity"] in self.domain.deciding_entities for e in turn.entities):
            return False  # "what about E05?" names its own topic: the rules answer it
        if self.repair.is_continuation(text) and self.repair.is_fragment(text):
            return self._next_passage(turn, str(topic))
        points_back = self.repair.refers_back(text)
        # A question, words pointing back, or a kind of question the KB answers ("still not
        # working", "I don't remember them") is about the topic; a bare fragment ("phoneuser01") is not.
        if not (self.repair.is_question(text) or points_back
                or any(pattern.search(text) for pattern, _ in self._expansions)):
            return False
        uncertain = self._is_uncertain(turn) or turn.confidence < self._knowledge("confident_intent")
        if turn.intent in _SOCIAL and not uncertain:
            return False
        if uncertain:
            # honest: a question about the topic the KB cannot answer gets "the job aid doesn't say"
            return self._answer_question(turn, topics=self._topics(turn), honest=self.repair.is_question(text))
        if turn.intent == "out_of_scope" or (points_back and self.repair.is_question(text)):
            # A clear reading still yields to the topic when the KB has a passage on it ("how long
            # do I wait?" after E05 is no off-topic question, nor "what is that one for?"); a clear
            # request ("call my phone to test it") does not.
            return self._answer_question(turn, topics=self._topics(turn), honest=False, topic_only=True)
        return False

    def _answer_question(self, turn: Turn, *, topics: list[str], honest: bool, topic_only: bool = False,
                         min_score: float | None = None) -> bool:
        """The best passage for the message, topic first; with ``honest`` and nothing good enough,
        say the job aid does not cover it (and offer a person) instead of guessing."""
        query = self._expanded(turn.text)
        if self.repair.refers_back(turn.text) and len(tokenize(turn.text)) <= _REFERENCE_WORDS:
            # "what is that one for?": "those" is in what was just said, by the user or the assistant.
            # In a form, "that" is what the form just asked; elsewhere the user's or the KB's last words.
            previous = _last_bot_text(turn, answers_only=False) if turn.state.active_loop else \
                f"{_last_user_text(turn)} {_last_bot_text(turn)}"
            query = f"{query} {previous}"
        hits = self.kb.passages(query, topics=topics, limit=8, lexical_only=not self.repair.is_question(turn.text))
        best = _best(hits, topic_min=self._knowledge("topic_min_score"),
                     any_min=min_score if min_score is not None else self._knowledge("min_score"),
                     topic_only=topic_only)
        if best is not None:
            self._say_passage(turn, best.passage, best.title)
            return True
        if honest:
            self._utter(turn, "utter_kb_no_answer")
            return True
        return False

    def _expanded(self, text: str) -> str:
        """The question plus the words its kind of answer uses ("how long" -> minutes, expires)."""
        extra = [words for pattern, words in self._expansions if pattern.search(text)]
        return " ".join([text, *extra])

    def _next_passage(self, turn: Turn, topic: str) -> bool:
        index = turn.state.slot(TOPIC_PASSAGE)
        following = self.kb.passage_after(topic, int(index) if index is not None else 0)
        if following is None:
            self._utter(turn, "utter_kb_end_of_topic", title=self.kb.get(topic).title)
            return True
        self._say_passage(turn, following, self.kb.get(topic).title, whole_section=False)
        return True

    def _say_passage(self, turn: Turn, passage: Passage, title: str, *, whole_section: bool = True) -> None:
        shown = self.kb.section(passage) if whole_section else (passage,)
        text = "\n".join(p.text for p in shown)
        message = self._render(turn, "utter_kb_passage", text=text, heading=passage.heading, title=title)
        message.custom = {**(message.custom or {}), "article": passage.article_id, "passage": passage.index}
        self._say(turn, message)
        # "then what?" goes on after the last passage shown
        self._set_topic(turn, passage.article_id, shown[-1].index)

    def _topics(self, turn: Turn) -> list[str]:
        topic = turn.state.slot(TOPIC)
        return self._topics_of(str(topic) if topic else None)

    def _topics_of(self, topic: str | None) -> list[str]:
        """An article and the first two it names as related (its FAQ, when it has one)."""
        if not topic:
            return []
        return [topic, *self.kb.get(topic).related[:2]]

    def _knowledge(self, name: str) -> float:
        return float(self.domain.knowledge[name])

    # ---------------------------------------------------------- clarification
    def _is_uncertain(self, turn: Turn) -> bool:
        if turn.parse.get("is_payload") or turn.parse.get("is_external"):
            return False
        ranking = turn.parse.get("intent_ranking") or []
        if turn.confidence < self.fallback_threshold:
            return True
        return len(ranking) > 1 and turn.confidence - float(ranking[1]["confidence"]) < self.ambiguity_threshold

    def _clarify_turn(self, turn: Turn) -> bool:
        if not self._is_uncertain(turn):
            if turn.state.slot(FALLBACKS):
                turn.set_slot(FALLBACKS, 0)
            return False
        if self._answer_question(turn, topics=self._topics(turn), honest=False):
            return True
        failures = int(turn.state.slot(FALLBACKS) or 0) + 1
        turn.set_slot(FALLBACKS, failures)
        if failures >= 2:
            turn.set_slot(FALLBACKS, 0)
            self._utter(turn, "utter_fallback_escalate")
            return True
        known = {e["entity"]: e["value"] for e in turn.entities
                 if e["entity"] in ("error_code", "call_failure", "mfa_method")}
        suffix = json.dumps(known, separators=(",", ":")) if known else ""
        buttons: list[dict[str, str]] = []
        for item in (turn.parse.get("intent_ranking") or [])[:4]:
            name = item["name"]
            label = self.domain.intent_labels.get(name)
            if label and name != "out_of_scope" and len(buttons) < 3:
                buttons.append({"title": label, "payload": f"/{name}{suffix}"})
        message: BotMessage = self._render(turn, "utter_clarify")
        message.buttons = buttons + message.buttons
        self._say(turn, message)
        return True


def _last_user_text(turn: Turn) -> str:
    """The user's message before this one."""
    users = [e for e in turn.state.events if e.get("event") == "user"]
    return str(users[-2].get("text") or "") if len(users) > 1 else ""


def _last_bot_text(turn: Turn, *, answers_only: bool = True) -> str:
    """What the assistant said just before this message: only a passage answer, unless a form
    is asking (then its question is what "that" points at: "where is that?")."""
    seen_user = False
    for event in reversed(turn.state.events):
        if event.get("event") == "user":
            if seen_user:
                return ""
            seen_user = True
        elif event.get("event") == "bot" and seen_user and event.get("text"):
            custom = (event.get("data") or {}).get("custom") or {}
            if custom.get("passage") is not None or not answers_only:
                return str(event["text"])[:_REFERENCE_CHARS]
    return ""


def _best(hits: list[PassageHit], *, topic_min: float, any_min: float, topic_only: bool) -> PassageHit | None:
    """The topic's best passage when it is good enough, else the best of the whole KB."""
    for hit in hits:
        if hit.in_topic and hit.score >= topic_min:
            return hit
    if topic_only:
        return None
    return next((hit for hit in hits if hit.score >= any_min), None)


def _matches(cond: Condition, intent: str, slots: dict[str, Any], entities: set[str], question: bool) -> bool:
    if cond.intents is not None and intent not in cond.intents:
        return False
    if not cond.entities <= entities:
        return False
    if cond.question is not None and cond.question != question:
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
