"""Custom actions (rasa-sdk), one module per user journey.

`build_actions(services)` returns the instances the engine registers with rasa-sdk's
executor; `python -m rasa_sdk --actions actions` finds the same classes by scanning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rasa_sdk import Action

from actions.account import build_account_actions
from actions.escalation import build_escalation_actions
from actions.troubleshooting import ActionExplainProblem, ValidateProblemForm

if TYPE_CHECKING:
    from bot.services.container import Services


def build_actions(services: "Services") -> list[Action]:
    return [
        ValidateProblemForm(),
        ActionExplainProblem(services),
        *build_account_actions(services),
        *build_escalation_actions(services),
    ]
