"""The rasa-sdk account actions, run directly with a Tracker and a CollectingDispatcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

from actions.account import PROVIDED, build_account_actions
from bot.services.container import Services
from tests.fakes.accounts import DEMO_ANSWERS, SESSION, account_services, tracker, verify
from tests.fakes.clock import FixedClock

DOMAIN: dict[str, Any] = {"forms": {
    "identity_form": {"required_slots": ["ncid", "security_answer_1", "security_answer_2"]},
    "registration_status_form": {"required_slots": ["ncid"]},
    "authenticator_code_form": {"required_slots": ["authenticator_code"]},
    "phone_change_form": {"required_slots": ["new_primary_phone", "new_secondary_phone"]},
}, "slots": {}}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def services(tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    s = account_services(tmp_path, clock=clock)  # development: the simulator places calls
    yield s
    s.close()


@pytest.fixture
def actions(services: Services) -> dict[str, Action]:
    return {a.name(): a for a in build_account_actions(services)}


async def run(action: Action, **tracker_args: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(**tracker_args), DOMAIN)
    return events, dispatcher.messages


def responses(messages: list[dict[str, Any]]) -> list[str | None]:
    return [m.get("response") for m in messages]


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def validate_identity(actions: dict[str, Action], sender: str, **candidates: Any) -> tuple[list, list]:
    validator = actions["validate_identity_form"]
    dispatcher = CollectingDispatcher()
    t = tracker(sender, slots=candidates, active_loop="identity_form")
    t.events.extend({"event": "slot", "name": k, "value": v} for k, v in candidates.items())
    events = await validator.run(dispatcher, t, DOMAIN)
    return events, dispatcher.messages


async def test_account_action_asks_for_identity_first(actions: dict[str, Action]) -> None:
    events, messages = await run(actions["action_place_test_call"])
    assert responses(messages) == ["utter_identity_needed"]
    assert slots(events)["pending_action"] == "action_place_test_call"
    assert {"event": "active_loop", "name": "identity_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events]


async def test_ncid_starts_a_challenge_with_two_questions(actions: dict[str, Action]) -> None:
    events, _ = await validate_identity(actions, "u", ncid="PhoneUser01")
    values = slots(events)
    assert values["ncid"] == "phoneuser01"
    assert {values["identity_question_1"], values["identity_question_2"]} <= set(DEMO_ANSWERS)


async def test_answers_never_stay_in_the_tracker(actions: dict[str, Action]) -> None:
    events, _ = await validate_identity(actions, "u", ncid="phoneuser01")
    q1 = slots(events)["identity_question_1"]
    events, _ = await validate_identity(actions, "u", ncid="phoneuser01", security_answer_1=DEMO_ANSWERS[q1])
    assert slots(events)["security_answer_1"] == PROVIDED


async def test_verified_identity_runs_the_pending_action(actions: dict[str, Action]) -> None:
    events, _ = await validate_identity(actions, "u", ncid="phoneuser01")
    v = slots(events)
    await validate_identity(actions, "u", ncid="phoneuser01",
                            security_answer_1=DEMO_ANSWERS[v["identity_question_1"]],
                            security_answer_2=DEMO_ANSWERS[v["identity_question_2"]])
    events, messages = await run(actions["action_verify_identity"], sender_id="u",
                                 slots={"pending_action": "action_place_test_call"})
    assert responses(messages) == ["utter_identity_verified"] and slots(events)["verified"] is True
    assert events[-1] == {"event": "followup", "name": "action_place_test_call", "timestamp": None}


async def test_unknown_ncid_and_wrong_answer_get_the_same_reply(actions: dict[str, Action]) -> None:
    replies = []
    for sender, ncid in (("a", "ghost99"), ("b", "phoneuser01")):
        await validate_identity(actions, sender, ncid=ncid)
        await validate_identity(actions, sender, ncid=ncid, security_answer_1="x", security_answer_2="y")
        events, messages = await run(actions["action_verify_identity"], sender_id=sender)
        replies.append((messages, slots(events)))
    assert replies[0] == replies[1] and responses(replies[0][0]) == ["utter_identity_failed"]


async def test_locked_ncid_ends_the_form_with_the_wait(actions: dict[str, Action], services: Services) -> None:
    for _ in range(5):
        await validate_identity(actions, "a", ncid="phoneuser01")
        await validate_identity(actions, "a", ncid="phoneuser01", security_answer_1="x", security_answer_2="y")
        await run(actions["action_verify_identity"], sender_id="a")
    events, messages = await validate_identity(actions, "b", ncid="phoneuser01")
    assert messages[0]["response"] == "utter_identity_locked" and messages[0]["minutes"] == 15
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]


def verified_as(services: Services, ncid: str, sender_id: str = "user-1") -> None:
    """Marks the conversation verified for ``ncid`` in the test session (as a passed check would)."""
    services.accounts.identity.verify_session(sender_id=sender_id, ncid=ncid, session=SESSION, channel="rest",
                                              outcome="verified")


@pytest.mark.parametrize("ncid, response", [
    ("newuser01", "utter_status_too_new"), ("notreg01", "utter_status_not_registered"),
    ("ghost99", "utter_status_not_registered"), ("disabled01", "utter_status_disabled"),
    ("phoneuser01", "utter_status_registered"),
])
async def test_registration_status_reply_per_situation(actions: dict[str, Action], services: Services,
                                                       ncid: str, response: str) -> None:
    _, before = await run(actions["action_registration_status"], slots={"ncid": ncid})
    assert responses(before) == ["utter_status_unverified"]  # issue 14: one answer before the check
    verified_as(services, ncid)
    _, messages = await run(actions["action_registration_status"], slots={"ncid": ncid})
    assert responses(messages) == [response]


async def test_new_ncid_is_told_how_many_minutes_to_wait(actions: dict[str, Action], services: Services) -> None:
    verified_as(services, "newuser01")
    _, messages = await run(actions["action_registration_status"], slots={"ncid": "newuser01"})
    assert messages[0]["minutes"] == 45


async def test_registration_method_is_disclosed_only_when_verified(actions: dict[str, Action],
                                                                  services: Services) -> None:
    _, before = await run(actions["action_registration_status"], slots={"ncid": "phoneuser01"})
    verify(services, "user-1")
    _, after = await run(actions["action_registration_status"], slots={"ncid": "phoneuser01"})
    assert responses(before) == ["utter_status_unverified"] and after[0]["method"] == "phone"


async def test_verified_user_gets_a_call_to_the_masked_primary(actions: dict[str, Action], services: Services) -> None:
    verify(services, "user-1")
    _, messages = await run(actions["action_place_test_call"])
    assert messages[0]["response"] == "utter_test_call_placed"
    assert messages[0]["to"].endswith("01") and "5550101" not in messages[0]["to"]
    assert messages[0]["has_secondary"] and messages[0]["simulator"]
    assert [c.to for c in services.phone_calls.simulator.active()] == ["+19195550101"]


async def test_fourth_call_in_an_hour_says_when_to_retry(actions: dict[str, Action], services: Services) -> None:
    verify(services, "user-1")
    for _ in range(3):
        await run(actions["action_place_test_call"])
    _, messages = await run(actions["action_place_test_call"])
    assert messages[0]["response"] == "utter_test_call_rate_limited" and messages[0]["minutes"] == 60
    assert messages[0]["at"] == "11:00 AM ET"


async def test_app_user_without_phones_is_told_so(actions: dict[str, Action], services: Services) -> None:
    verify(services, "user-1", "appuser01")
    _, messages = await run(actions["action_place_test_call"])
    assert responses(messages) == ["utter_test_call_no_phone"]


async def finish_call(services: Services, outcome: str, *, purpose: str = "test") -> str:
    """Place a call for user-1 and drive the webhooks' service side to ``outcome``."""
    calls = services.phone_calls
    extra = {"new_primary": "+12025550199"} if purpose == "change_phone" else {}
    placed = await calls.place(ncid="phoneuser01", sender_id="user-1", purpose=purpose, **extra)
    cid = placed.call_id
    if outcome in ("no_call_received", "voicemail"):
        for leg in range(2 if purpose == "test" else 1):
            if outcome == "voicemail":
                calls.on_voice(call_id=cid, leg=leg, params={"AnsweredBy": "machine_start"})
                await calls.on_status(call_id=cid, leg=leg, params={"CallStatus": "completed"})
            else:
                await calls.on_status(call_id=cid, leg=leg, params={"CallStatus": "no-answer"})
        return cid
    calls.on_voice(call_id=cid, leg=0, params={"AnsweredBy": "human"})
    if outcome == "call_disconnected":
        await calls.on_status(call_id=cid, leg=0, params={"CallStatus": "completed"})
    else:
        digits = {"confirmed": "#", "hash_not_pressed": "3", "no_input_timeout": ""}[outcome]
        calls.on_gather(call_id=cid, leg=0, params={"Digits": digits})
    return cid


def pushed(outcome: str, call_id: str) -> list[dict[str, Any]]:
    return [{"entity": "call_outcome", "value": outcome}, {"entity": "call_id", "value": call_id}]


@pytest.mark.parametrize("outcome, article", [
    ("hash_not_pressed", "hash_not_pressed"), ("no_input_timeout", "no_input_timeout"),
    ("call_disconnected", "call_disconnected"), ("no_call_received", "no_call_received"),
    ("voicemail", "no_call_received"),
])
async def test_failed_outcome_is_explained_with_its_article(actions: dict[str, Action], services: Services,
                                                            outcome: str, article: str) -> None:
    call_id = await finish_call(services, outcome)
    _, messages = await run(actions["action_explain_test_call_outcome"], intent="EXTERNAL_test_call_outcome",
                            entities=pushed(outcome, call_id))
    assert messages[0]["response"] == f"utter_test_call_outcome_{outcome}"
    assert messages[1]["custom"] == {"article": article}


async def test_confirmed_outcome_needs_no_article(actions: dict[str, Action], services: Services) -> None:
    call_id = await finish_call(services, "confirmed")
    _, messages = await run(actions["action_explain_test_call_outcome"], entities=pushed("confirmed", call_id))
    assert responses(messages) == ["utter_test_call_outcome_confirmed"]


async def test_a_claimed_outcome_is_checked_against_the_stored_call(actions: dict[str, Action],
                                                                   services: Services) -> None:
    call_id = await finish_call(services, "hash_not_pressed")
    _, messages = await run(actions["action_explain_test_call_outcome"], entities=pushed("confirmed", call_id))
    assert messages[0]["response"] == "utter_test_call_outcome_hash_not_pressed"
    _, messages = await run(actions["action_explain_test_call_outcome"], sender_id="someone-else",
                            entities=pushed("confirmed", call_id))
    assert responses(messages) == ["utter_test_call_no_outcome"]


async def test_phone_change_outcome_says_whether_numbers_were_saved(actions: dict[str, Action],
                                                                   services: Services) -> None:
    verify(services, "user-1")
    call_id = await finish_call(services, "confirmed", purpose="change_phone")
    _, messages = await run(actions["action_explain_test_call_outcome"], entities=pushed("confirmed", call_id))
    assert responses(messages)[0] == "utter_phone_change_saved"


async def test_activation_code_shows_code_url_and_qr_then_asks_for_the_app_code(
        actions: dict[str, Action], services: Services) -> None:
    verify(services, "user-1", "appuser01")
    events, messages = await run(actions["action_new_activation_code"])
    message = messages[0]
    assert message["response"] == "utter_activation_code" and message["url"].startswith("otpauth://")
    assert message["image"].startswith("/activation/qr/") and message["minutes"] == 10  # issue 14: a one-time link
    assert events[-1]["name"] == "authenticator_code_form"


async def test_app_code_confirms_and_is_cleared(actions: dict[str, Action], services: Services,
                                              clock: FixedClock) -> None:
    verify(services, "user-1", "appuser01")
    _, messages = await run(actions["action_new_activation_code"])
    totp = pyotp.parse_uri(messages[0]["url"])
    code = totp.generate_otp(totp.timecode(clock.now()))
    events, messages = await run(actions["action_confirm_authenticator_code"], slots={"authenticator_code": code})
    assert responses(messages) == ["utter_authenticator_confirmed"]
    assert slots(events) == {"authenticator_code": None}


async def test_wrong_app_code_asks_again(actions: dict[str, Action], services: Services) -> None:
    verify(services, "user-1", "appuser01")
    await run(actions["action_new_activation_code"])
    events, messages = await run(actions["action_confirm_authenticator_code"], slots={"authenticator_code": "000000"})
    assert responses(messages) == ["utter_authenticator_wrong_code"]
    assert events[-1]["name"] == "authenticator_code_form"


async def test_phone_change_validates_numbers(actions: dict[str, Action]) -> None:
    validator = actions["validate_phone_change_form"]
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"new_primary_phone": "919 555 0177"})
    t.events.append({"event": "slot", "name": "new_primary_phone", "value": "919 555 0177"})
    assert slots(await validator.run(dispatcher, t, DOMAIN)) == {"new_primary_phone": "+19195550177"}
    t = tracker(slots={"new_secondary_phone": "12"})
    t.events.append({"event": "slot", "name": "new_secondary_phone", "value": "12"})
    assert slots(await validator.run(dispatcher, t, DOMAIN)) == {"new_secondary_phone": None}
    assert responses(dispatcher.messages) == ["utter_phone_invalid"]


async def test_phone_change_calls_the_new_primary_and_saves_nothing_yet(actions: dict[str, Action],
                                                                       services: Services) -> None:
    verify(services, "user-1")
    events, messages = await run(actions["action_submit_phone_change"],
                                 slots={"new_primary_phone": "+12025550199", "new_secondary_phone": "none"})
    assert responses(messages) == ["utter_phone_change_calling"]
    assert [c.to for c in services.phone_calls.simulator.active()] == ["+12025550199"]
    assert services.accounts.directory.lookup("phoneuser01").primary_phone == "+19195550101"
    assert slots(events) == {"new_primary_phone": None, "new_secondary_phone": None}


async def test_disabled_account_is_escalated(actions: dict[str, Action], services: Services) -> None:
    verify(services, "user-1", "disabled01")
    _, messages = await run(actions["action_new_activation_code"])
    assert responses(messages) == ["utter_status_disabled"]
