"""Escalation actions driven directly through rasa-sdk (Tracker + CollectingDispatcher)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation import build_escalation_actions
from bot.services.container import Services
from bot import tracking_numbers as tracking
from tests.fakes import make_services
from tests.fakes.clock import FixedClock

FILLED = {"npi": "1234567893", "phone": "(919) 555-0134", "phone_ext": None, "last_name": "Smith",
          "first_name": "Jane", "subject": "MFA Issue", "email": "jane@clinic.org",
          "message": "E05 after 60 minutes."}
DOMAIN: dict[str, Any] = {"forms": {"ticket_form": {"required_slots": list(FILLED)[:2]}}}


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    services = make_services(tmp_path, clock=FixedClock("2026-12-02T15:00:00+00:00"))
    yield services
    services.close()


@pytest.fixture
def actions(services: Services) -> dict[str, Action]:
    return {action.name(): action for action in build_escalation_actions(services)}


def tracker(text: str = "", *, slots: dict[str, Any] | None = None, intent: str | None = None,
            events: list[dict[str, Any]] | None = None, loop: str | None = "ticket_form") -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0} if intent else {}, "entities": []}
    return Tracker("s1", dict(slots or {}), latest, list(events or []), False, None,
                   {"name": loop} if loop else {}, "action_listen")


async def run(action: Action, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, DOMAIN)
    return dispatcher.messages, events


def slots_set(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_one_answer_fills_several_fields(actions: dict[str, Action]) -> None:
    _, events = await run(actions["validate_ticket_form"], tracker(
        "I'm Jane Smith, 919-555-0134, jane@clinic.org", slots={"requested_slot": "npi"}))
    assert slots_set(events) == {"first_name": "Jane", "last_name": "Smith", "phone": "(919) 555-0134",
                                 "email": "jane@clinic.org", "ticket_failures": None, "requested_slot": "npi"}


async def test_valid_answer_fills_the_requested_field_and_moves_on(actions: dict[str, Action]) -> None:
    _, events = await run(actions["validate_ticket_form"], tracker("1234567893", slots={"requested_slot": "npi"}))
    assert slots_set(events)["npi"] == "1234567893" and slots_set(events)["requested_slot"] == "phone"


async def test_invalid_answer_is_explained_not_repeated(actions: dict[str, Action]) -> None:
    messages, events = await run(actions["validate_ticket_form"], tracker(
        "1234567890", slots={"requested_slot": "npi"}))
    assert messages[0]["response"] == "utter_ticket_invalid_npi" and messages[0]["reason"] == "check_digit"
    assert slots_set(events)["npi"] is None and slots_set(events)["ticket_failures"] == {"npi": 1}


async def test_third_failure_offers_the_phone(actions: dict[str, Action]) -> None:
    messages, _ = await run(actions["validate_ticket_form"], tracker(
        "12", slots={"requested_slot": "npi", "ticket_failures": {"npi": 2}}))
    assert [m["response"] for m in messages] == ["utter_ticket_invalid_npi", "utter_ticket_offer_phone"]


async def test_too_long_message_says_how_many_to_cut(actions: dict[str, Action]) -> None:
    messages, _ = await run(actions["validate_ticket_form"], tracker(
        "x" * 405, slots={"requested_slot": "message"}))
    assert messages[0]["response"] == "utter_ticket_invalid_message" and messages[0]["over"] == 5


async def test_accepted_message_reports_characters_remaining(actions: dict[str, Action]) -> None:
    messages, _ = await run(actions["validate_ticket_form"], tracker("x" * 70, slots={"requested_slot": "message"}))
    assert messages[0]["response"] == "utter_ticket_message_length" and messages[0]["remaining"] == 330


async def test_cancel_inside_the_form_clears_it(actions: dict[str, Action]) -> None:
    messages, events = await run(actions["validate_ticket_form"], tracker(
        "cancel", slots={"requested_slot": "email", "npi": "1234567893"}))
    assert messages[0]["response"] == "utter_ticket_cancelled"
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert slots_set(events)["npi"] is None


async def test_prefill_drafts_a_message_naming_the_error_code_and_what_was_tried(actions: dict[str, Action]) -> None:
    said = "I waited over an hour and I still get E05"
    history = [{"event": "user", "text": said, "parse_data": {
        "intent": {"name": "report_error", "confidence": 0.9},
        "entities": [{"entity": "error_code", "value": "E05", "start": 40, "end": 43}]}}]
    _, events = await run(actions["action_prefill_ticket"], tracker(
        said, slots={"error_code": "E05"}, events=history, loop=None))
    values = slots_set(events)
    assert values["subject"] == "MFA Issue"
    # A proposal the message question shows; the message itself stays empty until accepted.
    draft = values["message_draft"]
    assert "E05" in draft and "User Not Found" in draft and "Waited 60 minutes" in draft
    assert values["message"] is None


async def test_summary_offers_submit_change_and_cancel(actions: dict[str, Action]) -> None:
    messages, _ = await run(actions["action_ask_ticket_form_ticket_confirmed"], tracker(slots=FILLED))
    assert messages[0]["response"] == "utter_ticket_summary"
    assert [b["title"] for b in messages[0]["buttons"]] == ["Submit", "Change a field", "Cancel"]


async def test_submit_at_the_summary_confirms_the_form(actions: dict[str, Action]) -> None:
    _, events = await run(actions["validate_ticket_form"], tracker(
        "/affirm", intent="affirm", slots=FILLED | {"requested_slot": "ticket_confirmed"}))
    assert slots_set(events) == {"ticket_confirmed": True, "requested_slot": None}


async def test_change_the_email_reopens_that_field(actions: dict[str, Action]) -> None:
    _, events = await run(actions["validate_ticket_form"], tracker(
        "change the email", slots=FILLED | {"requested_slot": "ticket_confirmed"}))
    assert slots_set(events) == {"email": None, "ticket_confirmed": None, "requested_slot": "email"}


async def test_change_a_field_asks_which_one(actions: dict[str, Action]) -> None:
    messages, events = await run(actions["validate_ticket_form"], tracker(
        "/deny", intent="deny", slots=FILLED | {"requested_slot": "ticket_confirmed"}))
    assert messages[0]["response"] == "utter_ticket_which_field" and len(messages[0]["buttons"]) == 7
    assert slots_set(events)["requested_slot"] == "ticket_confirmed"


async def test_submit_files_the_ticket_and_shows_the_tracking_number(actions: dict[str, Action]) -> None:
    messages, events = await run(actions["action_submit_ticket"], tracker(slots=FILLED, loop=None))
    assert messages[0]["response"] == "utter_ticket_submitted"
    assert tracking.PATTERN.match(messages[0]["tracking_number"])
    assert slots_set(events)["tracking_number"] == messages[0]["tracking_number"]


async def test_ticket_status_with_matching_email(actions: dict[str, Action], services: Services) -> None:
    messages, _ = await run(actions["action_submit_ticket"], tracker(slots=FILLED, loop=None))
    number = messages[0]["tracking_number"]
    status, _ = await run(actions["action_ticket_status"], tracker(
        slots={"tracking_number": number.lower(), "status_email": "jane@clinic.org"}, loop=None))
    assert status[0]["response"] == "utter_ticket_status" and status[0]["status"] == "new"


async def test_ticket_status_with_other_email_reveals_nothing(actions: dict[str, Action]) -> None:
    messages, _ = await run(actions["action_submit_ticket"], tracker(slots=FILLED, loop=None))
    status, _ = await run(actions["action_ticket_status"], tracker(
        slots={"tracking_number": messages[0]["tracking_number"], "status_email": "eve@x.org"}, loop=None))
    assert status == [{"response": "utter_ticket_status_not_found", "text": None, "buttons": [],
                       "elements": [], "custom": {}, "template": "utter_ticket_status_not_found",
                       "image": None, "attachment": None}]


async def test_status_form_reads_a_number_and_email_from_one_answer(actions: dict[str, Action]) -> None:
    _, events = await run(actions["validate_status_form"], tracker(
        "mfa 7k4p 9qxd 2mwa, jane@clinic.org", slots={"requested_slot": "tracking_number"}, loop="status_form"))
    assert slots_set(events) == {"tracking_number": "MFA-7K4P-9QXD-2MWA", "status_email": "jane@clinic.org",
                                 "requested_slot": None}


async def test_hours_when_open_offer_the_phone(actions: dict[str, Action]) -> None:
    messages, _ = await run(actions["action_call_center_hours"], tracker(loop=None))
    assert messages[0]["response"] == "utter_call_center_open" and messages[0]["phone"] == "800-688-6696"


async def test_escalation_when_closed_says_when_it_opens_and_offers_a_ticket(
    actions: dict[str, Action], services: Services
) -> None:
    services.clock.set(services.clock.now().replace(hour=23))  # 18:00 Eastern
    messages, events = await run(actions["action_offer_escalation"], tracker(loop=None))
    assert messages[0]["response"] == "utter_call_center_closed"
    assert messages[0]["opens_at"] == "Thursday, December 3 at 8:00 AM"
    assert messages[1]["response"] == "utter_offer_ticket" and slots_set(events)["ticket_stage"] == "offered"
