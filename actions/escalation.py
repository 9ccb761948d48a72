"""Escalation journey: Contact Us ticket form, summary/correction, submit, ticket
status and call-center hours. Wording lives in data/responses/escalation.yml."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from bot.errors import RateLimited
from bot.services.container import Services
from bot.tickets import tracking
from bot.tickets.service import TicketForm
from bot.tickets.validation import (
    FieldResult, extract_fields, field_named, match_subject, validate_email_address,
    validate_extension, validate_message, validate_name, validate_npi, validate_phone,
)

FORM_SLOTS = ("npi", "phone", "last_name", "first_name", "subject", "email", "message")
ALL_FORM_SLOTS = FORM_SLOTS + ("phone_ext",)
REQUIRED = FORM_SLOTS + ("ticket_confirmed",)
SUBMIT = re.compile(r"^\s*/?(submit|send( it)?|yes|confirm|looks good|correct)\b", re.I)
CHANGE = re.compile(r"^\s*/?(deny|no|change|edit|fix|correct (the|my))\b", re.I)
FIELD_BUTTONS = {"npi": "NPI", "phone": "Phone", "last_name": "Last name", "first_name": "First name",
                 "subject": "Subject", "email": "Email", "message": "Message"}
MAX_TRIES = 3
CANCEL = re.compile(r"^\s*/?(cancel|stop|quit|never ?mind|forget it|abort)\b", re.I)
VALIDATORS = {
    "npi": validate_npi, "phone": validate_phone, "last_name": validate_name,
    "first_name": validate_name, "subject": match_subject, "email": validate_email_address,
    "message": validate_message, "phone_ext": validate_extension,
}
ERROR_NAMES = {"E05": "User Not Found", "E06": "User Not Registered/Enabled"}
CALL_FAILURES = {"hash_not_pressed": "# Not pressed After Entry", "no_input_timeout": "No Phone Input - Timed Out",
                 "call_disconnected": "Call Disconnected", "no_call_received": "no confirmation call received"}
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "bot" / "tickets" / "templates"),
    autoescape=False,
)


class ServicesMixin:
    """Services injected by the engine, or built lazily for the standalone action server."""

    def __init__(self, services: Services | None = None) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = Services.from_environment()
        return self._services


def _text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def _intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def is_cancel(tracker: Tracker) -> bool:
    return _intent(tracker) == "cancel" or bool(CANCEL.match(_text(tracker)))


def cancel_events() -> list[EventType]:
    return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("ticket_stage", None),
            SlotSet("ticket_failures", None), SlotSet("ticket_confirmed", None)] + [SlotSet(slot, None) for slot in ALL_FORM_SLOTS]


def _tried(tracker: Tracker) -> list[str]:
    """What the assistant already had the user try, from actions and walkthroughs run."""
    tried: list[str] = []
    for event in tracker.events:
        name = event.get("name") or ""
        if event.get("event") == "action" and name.startswith("action_") and "ticket" not in name \
                and name not in {"action_listen", "action_session_start", "action_call_center_hours",
                                 "action_offer_escalation", "action_prefill_ticket"}:
            label = name.removeprefix("action_").replace("_", " ")
            if label not in tried:
                tried.append(label)
    return tried


def diagnosis_of(tracker: Tracker) -> dict[str, Any]:
    intents = [e.get("parse_data", {}).get("intent", {}).get("name") for e in tracker.events
               if e.get("event") == "user"]
    return {
        "error_code": tracker.get_slot("error_code"),
        "call_failure": tracker.get_slot("call_failure"),
        "mfa_method": tracker.get_slot("mfa_method"),
        "test_call_outcome": tracker.get_slot("test_call_outcome"),
        "tried": _tried(tracker),
        "intents": [i for i in intents if i],
    }


class ValidateTicketForm(ServicesMixin, FormValidationAction):
    """Fills every field one answer reveals, explains failures, offers the phone after 3."""

    def name(self) -> str:
        return "validate_ticket_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> list[str]:
        return list(REQUIRED)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if is_cancel(tracker):
            dispatcher.utter_message(response="utter_ticket_cancelled")
            return cancel_events()
        requested = tracker.get_slot("requested_slot")
        text = _text(tracker).strip()
        if requested == "ticket_confirmed":
            return self._confirm(dispatcher, tracker, text)
        values: dict[str, Any] = {}
        # Free text answers the requested field; other fields it reveals are filled too.
        if requested != "message":
            for slot, value in extract_fields(text).items():
                if slot != requested and (tracker.get_slot(slot) is None or slot == "phone_ext"):
                    values[slot] = value
        # Slots the engine set from entities this turn are normalised, or dropped if invalid.
        for slot, raw in tracker.slots_to_validate().items():
            if slot in VALIDATORS and slot not in values and slot != requested and raw is not None:
                values[slot] = VALIDATORS[slot](str(raw)).value
        failures = dict(tracker.get_slot("ticket_failures") or {})
        # An answer that filled other fields is not a failed try at the requested one.
        answered_other = bool(values) and requested not in extract_fields(text)
        if requested in VALIDATORS and text and requested not in values and not answered_other:
            candidate = extract_fields(text).get(requested, text) if requested != "message" else text
            result: FieldResult = VALIDATORS[requested](candidate)
            if result.ok:
                values[requested] = result.value
                if requested == "phone" and result.extra and result.extra.get("ext"):
                    values["phone_ext"] = result.extra["ext"]
                if requested == "message":
                    self._message_feedback(dispatcher, result)
                failures.pop(requested, None)
            else:
                values[requested] = None
                failures[requested] = failures.get(requested, 0) + 1
                self._explain(dispatcher, requested, result, failures[requested])
        events: list[EventType] = [SlotSet(slot, value) for slot, value in values.items()]
        events.append(SlotSet("ticket_failures", failures or None))
        filled = {slot: tracker.get_slot(slot) for slot in REQUIRED} | values
        if requested in FORM_SLOTS and requested not in values:
            filled[requested] = None  # an empty answer leaves the field to ask again
        missing = next((slot for slot in REQUIRED if filled.get(slot) is None), None)
        events.append(SlotSet("requested_slot", missing))
        return events

    def _confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> list[EventType]:
        """The answer to the summary: submit, change a (named) field, or cancel."""
        slot = field_named(text)
        if slot is not None:
            slot = "phone" if slot == "phone_ext" else slot
            events: list[EventType] = [SlotSet(slot, None), SlotSet("ticket_confirmed", None)]
            if slot == "phone":
                events.append(SlotSet("phone_ext", None))
            return events + [SlotSet("requested_slot", slot)]
        if _intent(tracker) == "affirm" or SUBMIT.match(text):
            return [SlotSet("ticket_confirmed", True), SlotSet("requested_slot", None)]
        if _intent(tracker) == "deny" or CHANGE.match(text):
            dispatcher.utter_message(response="utter_ticket_which_field", buttons=[
                {"title": title, "payload": f"change {title.lower()}"} for title in FIELD_BUTTONS.values()])
        else:
            dispatcher.utter_message(response="utter_ticket_confirm_help")
        return [SlotSet("ticket_confirmed", None), SlotSet("requested_slot", "ticket_confirmed")]

    def _explain(self, dispatcher: CollectingDispatcher, slot: str, result: FieldResult, tries: int) -> None:
        extra = result.extra or {}
        dispatcher.utter_message(response=f"utter_ticket_invalid_{slot}", reason=result.error,
                                 tries=tries, **{k: v for k, v in extra.items() if k != "ext"})
        if tries >= MAX_TRIES:
            dispatcher.utter_message(response="utter_ticket_offer_phone")

    def _message_feedback(self, dispatcher: CollectingDispatcher, result: FieldResult) -> None:
        dispatcher.utter_message(response="utter_ticket_message_length",
                                 remaining=(result.extra or {}).get("remaining", 0))

    # extract_/validate_ methods keep rasa-sdk's own FormValidationAction path working
    # (e.g. under a Rasa server that does not call our run()).
    async def extract_phone_ext(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        ext = extract_fields(_text(tracker)).get("phone_ext")
        return {"phone_ext": ext} if ext else {}

    def validate_npi(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                     domain: DomainDict) -> dict[str, Any]:
        return {"npi": validate_npi(str(value or "")).value}

    def validate_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: DomainDict) -> dict[str, Any]:
        return {"email": validate_email_address(str(value or "")).value}


class ActionPrefillTicket(ServicesMixin, Action):
    """Subject MFA Issue and a message naming the error code and what was tried."""

    def name(self) -> str:
        return "action_prefill_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        diagnosis = diagnosis_of(tracker)
        code = diagnosis["error_code"]
        message = _TEMPLATES.get_template("prefill_message.txt.j2").render(
            error_code=code, error_name=ERROR_NAMES.get(str(code)),
            call_failure=CALL_FAILURES.get(str(diagnosis["call_failure"]), diagnosis["call_failure"]),
            tried=diagnosis["tried"], test_call_outcome=diagnosis["test_call_outcome"],
        ).strip()
        events: list[EventType] = [
            SlotSet("ticket_stage", "form"), SlotSet("ticket_failures", None), SlotSet("ticket_confirmed", None),
            SlotSet("subject", tracker.get_slot("subject") or "MFA Issue"),
            SlotSet("message", validate_message(message).value),
        ]
        # Details the conversation already holds (entities such as phone_number, email, npi).
        known = {"phone": tracker.get_slot("phone") or tracker.get_slot("phone_number"),
                 "email": tracker.get_slot("email"), "npi": tracker.get_slot("npi")}
        for slot, raw in known.items():
            if raw:
                result = VALIDATORS[slot](str(raw))
                events.append(SlotSet(slot, result.value if result.ok else None))
        dispatcher.utter_message(response="utter_ticket_intro")
        return events


class ActionTicketSummary(Action):
    def name(self) -> str:
        return "action_ticket_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        fields = {slot: tracker.get_slot(slot) for slot in ALL_FORM_SLOTS}
        dispatcher.utter_message(
            response="utter_ticket_summary", fields=fields,
            remaining=400 - len(str(fields.get("message") or "")),
            buttons=[{"title": "Submit", "payload": "/affirm"},
                     {"title": "Change a field", "payload": "/deny"},
                     {"title": "Cancel", "payload": "/cancel"}],
        )
        return []


class ActionAskTicketConfirmed(ActionTicketSummary):
    """The form's question for ``ticket_confirmed`` is the summary itself."""

    def name(self) -> str:
        return "action_ask_ticket_form_ticket_confirmed"


class ActionSubmitTicket(ServicesMixin, Action):
    def name(self) -> str:
        return "action_submit_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        slots = {slot: tracker.get_slot(slot) for slot in ALL_FORM_SLOTS}
        if any(slots[slot] is None for slot in FORM_SLOTS):
            return await ActionTicketSummary().run(dispatcher, tracker, domain)
        form = TicketForm(ext=slots["phone_ext"], **{slot: str(slots[slot]) for slot in FORM_SLOTS})
        channel = (tracker.get_latest_input_channel() or None)
        client = ((tracker.latest_message or {}).get("metadata") or {}).get("client")
        try:
            receipt = await asyncio.to_thread(
                self.services.tickets.create, form=form, diagnosis=diagnosis_of(tracker),
                sender_id=tracker.sender_id, channel=channel, continued_from=tracker.get_slot("continued_from"),
                client=client,
            )
        except RateLimited as exc:  # issue 14: Contact Us limits; the form stays filled in
            dispatcher.utter_message(response="utter_ticket_rate_limited", minutes=max(1, -(-exc.retry_after // 60)))
            return [SlotSet("ticket_confirmed", None), SlotSet("requested_slot", None)]
        dispatcher.utter_message(response="utter_ticket_submitted", tracking_number=receipt.tracking_number,
                                 email=form.email)
        return [SlotSet("tracking_number", receipt.tracking_number), SlotSet("ticket_stage", "submitted"),
                SlotSet("ticket_failures", None), SlotSet("ticket_confirmed", None),
                SlotSet("requested_slot", None), SlotSet("continued_from", None)] + [
            SlotSet(slot, None) for slot in ("message", "subject")]


class ValidateStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_status_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        if is_cancel(tracker):
            dispatcher.utter_message(response="utter_ticket_cancelled")
            return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("status_email", None)]
        text, requested = _text(tracker), tracker.get_slot("requested_slot")
        values: dict[str, Any] = {}
        number = tracking.find_in_text(text) or tracking.normalize(str(tracker.get_slot("tracking_number") or ""))
        if number:
            values["tracking_number"] = number
        elif requested == "tracking_number" and text:
            dispatcher.utter_message(response="utter_status_invalid_tracking_number")
        email = re.search(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", text)
        if email and validate_email_address(email.group()).ok:
            values["status_email"] = validate_email_address(email.group()).value
        elif requested == "status_email" and text:
            dispatcher.utter_message(response="utter_ticket_invalid_email", reason="invalid", tries=1)
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
        ValidateTicketForm(services), ActionPrefillTicket(services), ActionTicketSummary(),
        ActionAskTicketConfirmed(),
        ActionSubmitTicket(services), ValidateStatusForm(), ActionTicketStatus(services),
        ActionCallCenterHours(services), ActionOfferEscalation(services),
    ]
