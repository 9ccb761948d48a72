"""Escalation journey: ticket status, call-center hours and the escalation offer; the
Contact Us form itself is actions/ticket_form.py. Wording lives in data/responses/escalation.yml."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.ticket_form import (
    ActionAskTicketConfirmed, ActionAskTicketMessage, ActionPrefillTicket, ActionSubmitTicket, ActionTicketSummary,
    ServicesMixin, ValidateTicketForm, is_cancel, text_of,
)
from bot import tracking_numbers as tracking
from bot.services.container import Services
from bot.tickets.validation import validate_email_address


class ValidateStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_status_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if is_cancel(tracker):
            dispatcher.utter_message(response="utter_ticket_cancelled")
            return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("status_email", None)]
        text, requested = text_of(tracker), tracker.get_slot("requested_slot")
        values: dict[str, Any] = {}
        slot_value = str(tracker.get_slot("tracking_number") or "")
        number = tracking.find_in_text(text) or tracking.normalize(slot_value)
        if number:
            values["tracking_number"] = number
        elif requested == "tracking_number" or slot_value:
            # The whole sentence first ("REF-20931" where the NLU kept "20931"), then what the NLU found.
            other = tracking.reference_in_text(text) or tracking.reference_in_text(slot_value) or slot_value.upper()
            if other:
                # Not one of ours (say, a number from another NCTracks channel): say so now.
                dispatcher.utter_message(response="utter_status_not_ours", number=other)
                return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("tracking_number", None),
                        SlotSet("status_email", None)]
            if text:
                dispatcher.utter_message(response="utter_status_invalid_tracking_number")
            values["tracking_number"] = None
        email = re.search(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", text)
        if email and validate_email_address(email.group()).ok:
            values["status_email"] = validate_email_address(email.group()).value
        elif requested == "status_email" and text:
            dispatcher.utter_message(response="utter_ticket_invalid_email", reason="invalid", tries=1)
            values["status_email"] = None  # the text the form took is no email
        filled = {s: tracker.get_slot(s) for s in ("tracking_number", "status_email")} | values
        missing = next((s for s in ("tracking_number", "status_email") if not filled.get(s)), None)
        return [SlotSet(s, v) for s, v in values.items()] + [SlotSet("requested_slot", missing)]


class ActionTicketStatus(ServicesMixin, Action):
    def name(self) -> str:
        return "action_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        number = str(tracker.get_slot("tracking_number") or "")
        email = str(tracker.get_slot("status_email") or "")
        found = await asyncio.to_thread(self.services.tickets.status, tracking_number=number, email=email)
        if found is None:
            dispatcher.utter_message(response="utter_ticket_status_not_found")
        else:
            dispatcher.utter_message(
                response="utter_ticket_status", tracking_number=found.tracking_number, status=found.status,
                subject=found.subject, created=found.created_at.strftime("%B %d, %Y").replace(" 0", " "),
            )
        return [SlotSet("status_email", None), SlotSet("requested_slot", None)]


class ActionCallCenterHours(ServicesMixin, Action):
    """Open now? Offer the phone for live help; closed: when it opens, and offer a ticket."""

    offer = False

    def name(self) -> str:
        return "action_call_center_hours"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        status = self.services.hours.status()
        values: dict[str, Any] = {
            "phone": self.services.hours.phone, "reason": status.reason, "holiday": status.holiday,
            "closes_at": _clock(status.closes_at), "opens_at": _when(status.opens_at),
        }
        buttons = [{"title": "File a ticket", "payload": "/affirm"},
                   {"title": "No thanks", "payload": "/deny"}] if self.offer else []
        response = "utter_call_center_open" if status.open else "utter_call_center_closed"
        dispatcher.utter_message(response=response, **values)
        if self.offer:
            dispatcher.utter_message(response="utter_offer_ticket", buttons=buttons, **values)
            events: list[EventType] = [SlotSet("ticket_stage", "offered")]
            if tracker.get_slot("walkthrough"):
                # Otherwise the engine would read "yes" as "next walkthrough step".
                events.append(SlotSet("walkthrough_paused", True))
            return events
        return []


class ActionOfferEscalation(ActionCallCenterHours):
    offer = True

    def name(self) -> str:
        return "action_offer_escalation"


def _clock(moment: Any) -> str | None:
    return moment.strftime("%I:%M %p").lstrip("0") if moment else None


def _when(moment: Any) -> str | None:
    return moment.strftime("%A, %B %d at %I:%M %p").replace(" 0", " ") if moment else None


def build_escalation_actions(services: Services | None = None) -> list[Action]:
    return [
        ValidateTicketForm(services), ActionPrefillTicket(services), ActionTicketSummary(), ActionAskTicketMessage(),
        ActionAskTicketConfirmed(),
        ActionSubmitTicket(services), ValidateStatusForm(), ActionTicketStatus(services),
        ActionCallCenterHours(services), ActionOfferEscalation(services),
    ]
