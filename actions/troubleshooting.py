"""Troubleshooting journey: work out which error the user sees, then explain its fix."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import ServiceAction
from bot.nlu.entities import CANONICAL

_KNOWN_PROBLEMS = CANONICAL["error_code"] | CANONICAL["call_failure"]
# After this many unrecognised answers the user is offered a person instead.
_MAX_ATTEMPTS = 2


class ValidateProblemForm(FormValidationAction):
    """Asks which error the user sees; accepts a code, a call failure or a pasted message."""

    def name(self) -> str:
        return "validate_problem_form"

    async def validate_problem(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value in _KNOWN_PROBLEMS or value == "other":
            return {"problem": value, "problem_attempts": 0}
        attempts = int(tracker.get_slot("problem_attempts") or 0) + 1
        if attempts >= _MAX_ATTEMPTS:
            return {"problem": "other", "problem_attempts": 0}
        dispatcher.utter_message(response="utter_problem_not_recognised")
        return {"problem": None, "problem_attempts": attempts}


class ActionExplainProblem(ServiceAction):
    """Shows the knowledge-base article for the problem the form settled on."""

    def name(self) -> str:
        return "action_explain_problem"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        problem = tracker.get_slot("problem")
        kb = self.services.kb
        events: list[EventType] = [SlotSet("problem", None)]
        if problem in CANONICAL["error_code"]:
            article = kb.for_error_code(problem)
            events.append(SlotSet("error_code", problem))
        elif problem in CANONICAL["call_failure"]:
            article = kb.for_call_failure(problem)
            events.append(SlotSet("call_failure", problem))
        else:
            article = None
        if article is None:
            dispatcher.utter_message(response="utter_problem_other")
            return events
        dispatcher.utter_message(text=f"**{article.title}**\n\n{article.body.strip()}",
                                 custom={"article": article.id})
        dispatcher.utter_message(response="utter_anything_else")
        return events
