"""The repair detectors (data/flows `repair:`), and the engine refusing a bad precedence list."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialogue.domain import load_domain
from bot.dialogue.repair import Repair
from bot.errors import ConfigError

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def repair() -> Repair:
    return Repair.from_data(load_domain(DATA / "flows", DATA / "responses").repair)


@pytest.mark.parametrize("text", ["never mind", "no, stop, don't call me", "forget it, I'll phone them myself",
                                  "cancel that please", "I changed my mind"])
def test_plain_words_cancel_is_recognised(repair: Repair, text: str) -> None:
    assert repair.is_cancel(text)


@pytest.mark.parametrize("text", ["Maple", "my phone stops ringing after one ring", "919-555-0101",
                                  "the call is dropping"])
def test_answers_are_not_taken_for_a_cancel(repair: Repair, text: str) -> None:
    assert not repair.is_cancel(text)


@pytest.mark.parametrize("text", ["could you repeat that?", "say that again", "pardon?", "what did you say"])
def test_asking_to_repeat_is_recognised(repair: Repair, text: str) -> None:
    assert repair.is_repeat(text)


def test_a_request_worded_as_a_question_is_not_a_question(repair: Repair) -> None:
    assert repair.is_question("what is the NPI needed for?")
    assert not repair.is_question("can you walk me through the app setup?")


def test_an_agents_relay_is_read_as_the_callers_own_words(repair: Repair) -> None:
    assert repair.relayed("caller says she's locked out of her phone") == "I'm locked out of my phone"
    assert repair.relayed("he wants to know if his code expired") == "my code expired?"
    assert repair.relayed("I got E05") is None


def test_an_unknown_repair_kind_fails_at_start_up() -> None:
    with pytest.raises(ConfigError, match="unknown kind"):
        Repair.from_data({"canccel": ["x"]})


def test_a_bad_pattern_names_its_kind() -> None:
    with pytest.raises(ConfigError, match="repair.skip"):
        Repair.from_data({"skip": ["(unclosed"]})


def test_a_precedence_that_does_not_end_with_rules_fails_at_start_up(runtime: object) -> None:
    from bot.dialogue.engine import DialogueEngine

    engine = runtime.assistant.engine  # type: ignore[attr-defined]
    domain = load_domain(DATA / "flows", DATA / "responses")
    domain.precedence = ["command", "form"]
    with pytest.raises(ConfigError, match="end with rule"):
        DialogueEngine(domain=domain, kb=engine.kb, runner=engine.runner, known_intents=frozenset(),
                       fallback_threshold=0.4, ambiguity_threshold=0.1)
