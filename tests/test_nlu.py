"""Entity extraction, payload parsing and the model file."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.nlu.entities import EntityExtractor, npi_is_valid
from bot.nlu.interpreter import Interpreter
from bot.nlu.model import NLUModel, load_or_train, train
from bot.nlu.training_data import load_training_data, parse_example

SETTINGS = Settings.load(env={})
DATA = load_training_data(SETTINGS.nlu.training_data)


@pytest.fixture(scope="module")
def interpreter(nlu_model_path: Path) -> Interpreter:
    return Interpreter(NLUModel.load(nlu_model_path), DATA)


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor(DATA)


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("I got error E05", "error_code", "E05"),
        ("e-05 again", "error_code", "E05"),
        ("it says E 05", "error_code", "E05"),
        ("error code# E05", "error_code", "E05"),
        ("eo6 what now", "error_code", "E06"),
        ("Error Code# E06: User Not Registered/Enabled", "error_code", "E06"),
        ("User Not Found", "error_code", "E05"),
        ("# Not pressed After Entry", "call_failure", "hash_not_pressed"),
        ("No Phone Input – Timed Out", "call_failure", "no_input_timeout"),
        ("No Phone Input - Timed Out", "call_failure", "no_input_timeout"),
        ("Call Disconnected", "call_failure", "call_disconnected"),
        ("it hung up on me", "call_failure", "call_disconnected"),
        ("I never got a call", "call_failure", "no_call_received"),
        ("call me at (919) 555-0134", "phone_number", "+19195550134"),
        ("my cell is 919.555.0134", "phone_number", "+19195550134"),
        ("email jane.doe@clinic.org please", "email", "jane.doe@clinic.org"),
        ("npi 1234567893", "npi", "1234567893"),
        ("status of mfa-7k4p-9qxd-2mwa", "tracking_number", "MFA-7K4P-9QXD-2MWA"),
        ("set up the microsoft authenticator", "mfa_method", "app"),
        # issue 17: tracking numbers as typed, with or without our prefix, after a label
        ("ticket MFA 7K4P 9QXD 2MWA", "tracking_number", "MFA-7K4P-9QXD-2MWA"),
        ("is 7k4p-9qxd-2mwa done yet", "tracking_number", "7K4P-9QXD-2MWA"),
        ("my tracking number is 5521-077-4410", "tracking_number", "5521-077-4410"),
        ("case # ab-20931 any news", "tracking_number", "AB-20931"),
        ("reference: NCT7781234", "tracking_number", "NCT7781234"),
        ("confirmation number 2025-0612-77", "tracking_number", "2025-0612-77"),
        # the method however it is named
        ("i'd like to use the app", "mfa_method", "app"),
        ("set it up on the microsoft app", "mfa_method", "app"),
        ("i'd rather get a push notification", "mfa_method", "app"),
        ("i never see the push to approve", "mfa_method", "app"),
        ("registering by phone", "mfa_method", "phone"),
        ("can we do it with the landline", "mfa_method", "phone"),
        ("the call option please", "mfa_method", "phone"),
        ("the confirmation call never came", "mfa_method", "phone"),
        ("what does call me now to authenticate do", "mfa_method", "phone"),
        # mangled codes and plain-word failures
        ("error code 05 again", "error_code", "E05"),
        ("got error 6", "error_code", "E06"),
        ("I pressed 0 by mistake", "call_failure", "hash_not_pressed"),
        ("the kid mashed the buttons", "call_failure", "hash_not_pressed"),
        ("the call keeps dropping", "call_failure", "call_disconnected"),
        # an NPI the user calls one, even with a wrong check digit (the form says so later)
        ("NPI is 1234567890", "npi", "1234567890"),
        ("provider id: 1245319599", "npi", "1245319599"),
        # where an out-of-scope request belongs (issue 17)
        ("I can no longer remember my NCID password", "off_topic", "ncid_account"),
        ("locked out of my ncid after three tries", "off_topic", "ncid_account"),
        ("why was my claim denied", "off_topic", "claims"),
        ("prior auth for an mri", "off_topic", "prior_approval"),
        ("when is the next checkwrite", "off_topic", "payments"),
    ],
)
def test_entities_survive_how_people_type(extractor: EntityExtractor, text: str, entity: str, value: str) -> None:
    found = {(e.entity, e.value) for e in extractor.extract(text)}
    assert (entity, value) in found


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("it's 1234567890", "npi"),                # unlabelled, and a wrong check digit
        ("page 5 of the guide", "error_code"),
        ("the call hung up", "mfa_method"),        # "call" alone is not a method choice
        ("call 555-1234", "phone_number"),         # no area code
        ("how do i finish mfa registration", "tracking_number"),  # twelve letters after MFA
        ("how long does the mfa step take when logging in", "tracking_number"),
        ("i opened a case 3 days ago", "tracking_number"),
        ("scan the barcode with my phone", "mfa_method"),
        ("is it in the app store", "mfa_method"),
        ("i had to push the pound key", "mfa_method"),
        ("i pushed 2 by mistake", "mfa_method"),
        ("NPI is 1234567890", "phone_number"),     # labelled an NPI, so not a phone
    ],
)
def test_lookalikes_are_not_entities(extractor: EntityExtractor, text: str, entity: str) -> None:
    assert entity not in {e.entity for e in extractor.extract(text)}


@pytest.mark.parametrize("text", [
    "ticket" + " " * 1990 + "!",        # a label, then nothing a value could be
    "npi" + " " * 1990 + "!",
    "error" + " " * 1990 + "!",
    "tracking\t \n" * 300 + "#",
    "e" + " " * 1990 + "x",
    "a@" + "a." * 995,
    "confirmation " * 150,
])
def test_long_runs_of_spaces_cannot_stall_the_extractor(interpreter: Interpreter, text: str) -> None:
    # Regexes with several \s* in a row once tried every split of a run of spaces: minutes
    # for 2,000 characters (the message limit). Possessive quantifiers keep it linear.
    started = time.perf_counter()
    interpreter.parse(text)
    assert time.perf_counter() - started < 1.0


def test_npi_check_digit_follows_the_luhn_rule_with_prefix_80840() -> None:
    assert npi_is_valid("1234567893")
    assert npi_is_valid("1245319599")
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("12345")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I hit 1 instead of pound", "call_problem"),
        ("phone rang but I didn't press anything", "call_problem"),
        ("how do I set up the authenticator app", "enroll_app"),
        ("what's the weather in Raleigh", "out_of_scope"),
        ("can you reset my ncid password", "out_of_scope"),
        ("my ncid account is locked out", "out_of_scope"),
        ("i can't log in, the mfa part never finishes", "login_help"),
    ],
)
def test_intents_of_plain_descriptions(interpreter: Interpreter, text: str, intent: str) -> None:
    assert interpreter.parse(text)["intent"]["name"] == intent


def test_an_activation_code_that_timed_out_is_no_call_failure(interpreter: Interpreter) -> None:
    parsed = interpreter.parse("my activation code timed out, can i get a new one")
    assert parsed["intent"]["name"] == "new_activation_code"
    assert "call_failure" not in {e["entity"] for e in parsed["entities"]}


def test_plain_words_for_a_call_failure_get_a_value(interpreter: Interpreter) -> None:
    values = {e["value"] for e in interpreter.parse("I hit 1 instead of pound")["entities"]
              if e["entity"] == "call_failure"}
    assert values == {"hash_not_pressed"}


def test_a_button_payload_is_parsed_with_full_confidence(interpreter: Interpreter) -> None:
    parsed = interpreter.parse('/report_error{"error_code":"E05"}')
    assert parsed["intent"] == {"name": "report_error", "confidence": 1.0}
    assert parsed["entities"][0]["value"] == "E05"


def test_a_payload_cannot_smuggle_a_non_canonical_value(interpreter: Interpreter) -> None:
    parsed = interpreter.parse('/report_error{"error_code":"DROP TABLE"}')
    assert parsed["entities"] == []


def test_annotations_keep_offsets() -> None:
    example = parse_example("I got [eo6](error_code:E06) today", "report_error")
    span = example.entities[0]
    assert example.text == "I got eo6 today"
    assert example.text[span.start:span.end] == "eo6" and span.value == "E06"


def test_training_twice_gives_the_same_model_file(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    train(DATA, SETTINGS.nlu, digest="x").save(first)
    train(DATA, SETTINGS.nlu, digest="x").save(second)
    assert first.read_bytes() == second.read_bytes()


def test_a_missing_or_stale_model_is_trained_at_start(tmp_path: Path) -> None:
    data = tmp_path / "nlu.yml"
    data.write_text(SETTINGS.nlu.training_data.read_text(encoding="utf-8"), encoding="utf-8")
    settings = dataclasses.replace(SETTINGS.nlu, training_data=data, model_path=tmp_path / "m.json")
    model, _ = load_or_train(settings)
    assert settings.model_path.exists()
    data.write_text(data.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    retrained, _ = load_or_train(settings)
    assert retrained.data_digest != model.data_digest


def test_an_area_word_does_not_hide_an_mfa_entity(extractor: EntityExtractor) -> None:
    found = {(e.entity, e.value) for e in extractor.extract("my bank uses google authenticator")}
    assert ("mfa_method", "app") in found


def test_every_design_intent_is_trained(nlu_model_path: Path) -> None:
    expected = {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "what_is_mfa", "enroll",
                "enroll_phone", "enroll_app", "report_error", "call_problem", "new_activation_code",
                "test_call", "change_phone", "security_questions", "login_help", "contact_support",
                "call_center_info", "ticket_status", "out_of_scope"}
    assert set(NLUModel.load(nlu_model_path).intents.labels) == expected
