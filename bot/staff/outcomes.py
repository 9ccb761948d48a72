"""How each conversation ended, read from its events (never guessed from "no ticket"):

- resolved: the user confirmed an answer worked, or thanked us after an answer;
- escalated: a ticket was filed, or a person was asked for / took the conversation over;
- abandoned: the user left in the middle of a form or walkthrough, after the assistant could
  not understand them, after saying the answer did not help, or without asking anything;
- unconfirmed: the user got an answer and left without saying whether it worked;
- out of scope: everything the user asked was outside MFA;
- in progress: the conversation is still open (active within the session expiry).

Every conversation gets exactly one class, so the figures add up to the number of
conversations. Requests and form answers are told apart as for a ticket's diagnosis
(bot/tickets/diagnosis.py): answering "Smith" to a form is not an out-of-scope request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from bot.tickets.diagnosis import TurnSpan, build_diagnosis, split_turns, verdict

OUTCOMES = ("resolved", "escalated", "abandoned", "unconfirmed", "out_of_scope", "in_progress")
LABELS = {"resolved": "Resolved", "escalated": "Escalated (ticket or person)", "abandoned": "Abandoned",
          "unconfirmed": "Answered, not confirmed", "out_of_scope": "Out of scope", "in_progress": "Still open"}
# Intents that carry no topic of their own.
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "none_of_these",
                        "out_of_scope", "walkthrough_error"})
# Responses that mean "I could not handle that" (the first words are enough to know them).
FALLBACK_RESPONSES = ("utter_default", "utter_clarify", "utter_fallback_escalate", "utter_unknown_option")
_PREFIX = 48


@dataclass(frozen=True)
class Outcome:
    outcome: str
    reason: str
    topic: str | None  # error code, else call failure, else the first thing asked for
    error_code: str | None


def fallback_prefixes(responses: dict[str, list[dict[str, Any]]]) -> frozenset[str]:
    """The opening words of the fallback responses, to recognise them in stored bot events."""
    found = set()
    for name in FALLBACK_RESPONSES:
        for variant in responses.get(name) or []:
            text = _norm(str(variant.get("text") or ""))
            if text:
                found.add(text[:_PREFIX])
    return frozenset(found)


def classify(events: Iterable[dict[str, Any]], *, escalated: bool, idle: bool,
             fallbacks: frozenset[str]) -> Outcome:
    events = list(events)
    diagnosis = build_diagnosis(events)
    spans = split_turns(events)
    topical = [s.intent for s in spans if s.kind == "request" and s.intent and s.intent not in SMALL_TALK]
    topic = diagnosis.error_code or diagnosis.call_failure or (topical[0] if topical else None)

    def done(outcome: str, reason: str) -> Outcome:
        return Outcome(outcome, reason, topic, diagnosis.error_code)

    if escalated:
        return done("escalated", "ticket or person")
    if not idle:
        return done("in_progress", "still open")
    asked = [s for s in spans if s.kind == "request"]
    if not topical:
        if any(s.intent == "out_of_scope" and not _fell_back(s, fallbacks) for s in asked):
            return done("out_of_scope", "only asked about other things")
        if any(_fell_back(s, fallbacks) for s in asked):
            return done("abandoned", "left after a fallback")
        return done("abandoned", "asked nothing")
    flow = _open_flow(events)
    if flow:
        return done("abandoned", f"left mid-flow ({flow})")
    status = _last_status(spans, fallbacks)
    if status == "confirmed":
        return done("resolved", "confirmed or thanked after an answer")
    if status == "answered":
        return done("unconfirmed", "left after an answer")
    return done("abandoned", {"fallback": "left after a fallback", "not_helped": "said it did not help",
                              "cancelled": "cancelled"}.get(status or "", "no answer"))


def _last_status(spans: list[TurnSpan], fallbacks: frozenset[str]) -> str | None:
    """Where the conversation stood after its last turn that said something about it."""
    status: str | None = None
    for span in spans:
        if span.kind in ("start", "handoff"):
            continue
        if span.kind == "command":
            status = "cancelled" if _closed_a_form(span) or span.intent == "cancel" else status
            continue
        if _fell_back(span, fallbacks):
            status = "fallback"
            continue
        starts_flow = _starts_flow(span)
        judged = verdict(span) if span.kind == "request" else None
        if span.kind == "request" and judged is True and not starts_flow and status == "answered":
            status = "confirmed"
        elif span.kind == "request" and judged is False:
            status = "not_helped"
        elif span.kind == "request" and span.intent in ("thank", "goodbye"):
            if span.intent == "thank" and status == "answered":
                status = "confirmed"  # thanked after an answer
        elif span.kind == "request" and span.intent == "out_of_scope":
            # Off-topic (or gibberish) after an MFA question: the assistant could not help with
            # it, unless the user had already said their problem was solved.
            status = status if status == "confirmed" else "fallback"
        elif span.kind == "request" and span.intent in ("greet", "bot_challenge"):
            continue
        elif any(e.get("event") == "bot" for e in span.events):
            status = "answered"
    return status


def _fell_back(span: TurnSpan, fallbacks: frozenset[str]) -> bool:
    if span.intent == "none_of_these":
        return True
    for event in span.events:
        if event.get("event") == "slot" and event.get("name") == "fallback_count" and (event.get("value") or 0) >= 1:
            return True  # the engine's "did you mean...?"
        if event.get("event") == "bot" and _norm(str(event.get("text") or ""))[:_PREFIX] in fallbacks:
            return True
    return False


def _starts_flow(span: TurnSpan) -> bool:
    return any((e.get("event") == "active_loop" and e.get("name"))
               or (e.get("event") == "slot" and e.get("name") in ("walkthrough", "walkthrough_step"))
               for e in span.events)


def _closed_a_form(span: TurnSpan) -> bool:
    return any(e.get("event") == "active_loop" and e.get("name") is None for e in span.events)


def _open_flow(events: list[dict[str, Any]]) -> str | None:
    """The form or walkthrough still under way when the conversation went quiet."""
    loop: str | None = None
    slots: dict[str, Any] = {}
    for event in events:
        kind = event.get("event")
        if kind == "active_loop":
            loop = event.get("name")
        elif kind == "slot":
            slots[str(event.get("name"))] = event.get("value")
        elif kind in ("session_started", "restart"):
            loop, slots = None, {}
    if loop:
        return str(loop)
    if slots.get("walkthrough"):
        return str(slots["walkthrough"])
    if slots.get("ticket_stage") == "offered":
        return "ticket offer"
    return None


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()
