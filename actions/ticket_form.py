"""The Contact Us ticket journey: the form (several fields at once, corrections, the drafted
message the user accepts or replaces, the summary), the prefill and the submission.
Wording lives in data/responses/escalation.yml; conversation repair (cancel, skip,
questions) is the engine's (bot/dialogue/forms.py)."""

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
from bot.tickets.diagnosis import build_diagnosis, load_patterns
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
# Typed values the user volunteers for a field already filled replace it ("actually my email is ...").
CORRECTABLE = ("npi", "phone", "email")
USE_DRAFT = re.compile(r"^\s*/?(affirm|yes|yeah|yep|sure|ok(ay)?|use (it|that|this)|that'?s (fine|good|right)|looks good|fine)\b", re.I)
CANCEL = re.compile(r"^\s*/?(cancel|stop|quit|never ?mind|forget it|abort)\b", re.I)
VALIDATORS = {
    "npi": validate_npi, "phone": validate_phone, "last_name": validate_name,
    "first_name": validate_name, "subject": match_subject, "email": validate_email_address,
    "message": validate_message, "phone_ext": validate_extension,
}
ERROR_NAMES = {"E05": "User Not Found", "E06": "User Not Registered/Enabled"}
CALL_FAILURES = {"hash_not_pressed": "# Not pressed After Entry", "no_input_timeout": "No Phone Input - Timed Out",
                 "call_disconnected": "Call Disconnected", "no_call_received": "no confirmation call received"}
_TRIED_LABELS = load_patterns().labels
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
            from bot.composition import services_from_environment

            self._services = services_from_environment()
        return self._services


def text_of(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def _intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def is_cancel(tracker: Tracker) -> bool:
    return _intent(tracker) == "cancel" or bool(CANCEL.match(text_of(tracker)))


def cancel_events() -> list[EventType]:
    return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("ticket_stage", None),
            SlotSet("ticket_failures", None), SlotSet("ticket_confirmed", None)] + [SlotSet(slot, None) for slot in ALL_FORM_SLOTS]


def _value_before_this_message(tracker: Tracker, slot: str) -> Any:
    """A slot's value as it was when the user's latest message arrived."""
    value, at_last_message = None, None
    for event in tracker.events:
        if event.get("event") == "user":
            at_last_message = value
        elif event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
    return at_last_message


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
        text = text_of(tracker).strip()
        if requested == "ticket_confirmed":
            return self._confirm(dispatcher, tracker, text)
        values: dict[str, Any] = {}
        draft = tracker.get_slot("message_draft")
        if requested == "message" and draft and (_intent(tracker) == "affirm" or USE_DRAFT.match(text)):
            # The user saw the proposed message and accepted it.
            return [SlotSet("message", draft), SlotSet("message_draft", None),
                    SlotSet("requested_slot", self._missing(tracker, {"message": draft}))]
        # Free text answers the requested field; other fields it reveals are filled too.
        corrected = False
        if requested != "message":
            for slot, value in extract_fields(text).items():
                if slot == requested:
                    continue
                before = _value_before_this_message(tracker, slot)
                if before is None or slot == "phone_ext":
                    values[slot] = value
                elif slot in CORRECTABLE and value != before:
                    values[slot] = value
                    # "actually my email is ...": say what changed, so the user can trust it.
                    dispatcher.utter_message(response="utter_ticket_field_updated",
                                             field=FIELD_BUTTONS[slot], value=value)
                    corrected = True
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
        if corrected and requested in FORM_SLOTS and requested not in values:
            # The acknowledgement is not a question: ask the open one again.
            dispatcher.utter_message(response=f"utter_ask_{requested}")
        events: list[EventType] = [SlotSet(slot, value) for slot, value in values.items()]
        events.append(SlotSet("ticket_failures", failures or None))
        if requested in FORM_SLOTS and requested not in values:
            values[requested] = None  # an empty answer leaves the field to ask again
        events.append(SlotSet("requested_slot", self._missing(tracker, values)))
        return events

    @staticmethod
    def _missing(tracker: Tracker, values: dict[str, Any]) -> str | None:
        filled = {slot: tracker.get_slot(slot) for slot in REQUIRED} | values
        return next((slot for slot in REQUIRED if filled.get(slot) is None), None)

    def _confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> list[EventType]:
        """The answer to the summary: submit, change a field (named, or given a new value), or
        new words for the message; the summary is shown again after any change."""
        # "my email should be x@y.org" carries its new value: take it rather than ask for it.
        changes: dict[str, Any] = {slot: value for slot, value in extract_fields(text).items()
                                   if slot in CORRECTABLE and value != _value_before_this_message(tracker, slot)}
        slot = field_named(text)
        if slot is not None and not changes:
            slot = "phone" if slot == "phone_ext" else slot
            events: list[EventType] = [SlotSet(slot, None), SlotSet("ticket_confirmed", None)]
            if slot == "phone":
                events.append(SlotSet("phone_ext", None))
            return events + [SlotSet("requested_slot", slot)]
        if not changes and (_intent(tracker) == "affirm" or SUBMIT.match(text)):
            return [SlotSet("ticket_confirmed", True), SlotSet("requested_slot", None)]
        if not changes and (_intent(tracker) == "deny" or CHANGE.match(text)):
            dispatcher.utter_message(response="utter_ticket_which_field", buttons=[
                {"title": title, "payload": f"change {title.lower()}"} for title in FIELD_BUTTONS.values()])
            return [SlotSet("ticket_confirmed", None), SlotSet("requested_slot", "ticket_confirmed")]
        # Neither yes nor no nor a field: the user's new words for the message.
        message = validate_message(text)
        if not changes and len(text.split()) >= 5 and message.ok and message.value != tracker.get_slot("message"):
            changes["message"] = message.value
        for slot_name, value in changes.items():
            dispatcher.utter_message(response="utter_ticket_field_updated", field=FIELD_BUTTONS[slot_name], value=value)
        if not changes:
            dispatcher.utter_message(response="utter_ticket_confirm_help")
            return [SlotSet("ticket_confirmed", None), SlotSet("requested_slot", "ticket_confirmed")]
        # Nothing is submitted unseen: the summary again, as it now stands.
        show_summary(dispatcher, {slot: tracker.get_slot(slot) for slot in ALL_FORM_SLOTS} | changes)
        return [SlotSet(slot_name, value) for slot_name, value in changes.items()] + [
            SlotSet("ticket_confirmed", None), SlotSet("requested_slot", "ticket_confirmed")]

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
        ext = extract_fields(text_of(tracker)).get("phone_ext")
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
        # The draft is built from what the user said over the conversation (not from form answers).
        diagnosis = build_diagnosis(tracker.events)
        code, failure = diagnosis.error_code, diagnosis.call_failure
        tried = [_TRIED_LABELS.get(step, step) for step in diagnosis.tried]
        message = _TEMPLATES.get_template("prefill_message.txt.j2").render(
            error_code=code, error_name=ERROR_NAMES.get(str(code)),
            call_failure=CALL_FAILURES.get(str(failure), failure), tried=tried,
            test_call_outcome=diagnosis.test_calls[-1] if diagnosis.test_calls else None,
        ).strip()
        events: list[EventType] = [
            SlotSet("ticket_stage", "form"), SlotSet("ticket_failures", None), SlotSet("ticket_confirmed", None),
            SlotSet("subject", tracker.get_slot("subject") or "MFA Issue"),
            # A proposal: the message question shows it, and only an accepted draft is used.
            SlotSet("message_draft", validate_message(message).value), SlotSet("message", None),
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


class ActionAskTicketMessage(Action):
    """The message question: the drafted summary to accept, or the user's own words."""

    def name(self) -> str:
        return "action_ask_ticket_form_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        draft = tracker.get_slot("message_draft")
        if draft:
            dispatcher.utter_message(response="utter_ask_message_with_draft", draft=draft,
                                     buttons=[{"title": "Use this message", "payload": "/affirm"}])
        else:
            dispatcher.utter_message(response="utter_ask_message")
        return []


class ActionTicketSummary(Action):
    def name(self) -> str:
        return "action_ticket_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[EventType]:
        show_summary(dispatcher, {slot: tracker.get_slot(slot) for slot in ALL_FORM_SLOTS})
        return []


def show_summary(dispatcher: CollectingDispatcher, fields: dict[str, Any]) -> None:
    """The inquiry as it would be submitted, with Submit / Change a field / Cancel."""
    dispatcher.utter_message(
        response="utter_ticket_summary", fields=fields,
        remaining=400 - len(str(fields.get("message") or "")),
        buttons=[{"title": "Submit", "payload": "/affirm"},
                 {"title": "Change a field", "payload": "/deny"},
                 {"title": "Cancel", "payload": "/cancel"}],
    )


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
                self.services.tickets.create, form=form, diagnosis=build_diagnosis(tracker.events).as_dict(),
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
