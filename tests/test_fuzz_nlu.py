"""Property tests: the NLU, the entity extractors and the form validators never crash.

Any text a user can type (any Unicode, control characters, very long lines, button-like
payloads with broken JSON) gives a well-formed parse or a validation message, never an
exception. Example counts are modest so this stays fast; CI runs it on every push.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.accounts.directory import normalize_answer, normalize_ncid
from bot.config import Settings
from bot.nlu.interpreter import Interpreter
from bot.nlu.model import NLUModel
from bot.nlu.training_data import load_training_data
from bot.privacy import phi
from bot import tracking_numbers as tracking
from bot.tickets import validation

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text users type, plus what tries to look like our own formats.
texts = st.one_of(
    st.text(max_size=300),
    st.from_regex(r"/[a-z_]{1,20}(\{.{0,40}\})?", fullmatch=True),
    st.from_regex(r"(MFA[- ]?)?[0-9A-Z]{4}[- ]?[0-9A-Z]{4}[- ]?[0-9A-Z]{4}", fullmatch=True),
    st.from_regex(r"[0-9 ()+.-]{5,25}", fullmatch=True),
    st.builds(lambda a, b: f"{a} E0{b} {a}", st.text(max_size=30), st.integers(0, 9)),
)


@pytest.fixture(scope="module")
def interpreter(nlu_model_path: Path) -> Interpreter:
    nlu = Settings.load(env={}).nlu
    return Interpreter(NLUModel.load(nlu_model_path), load_training_data(nlu.training_data))


def test_the_interpreter_parses_any_text(interpreter: Interpreter) -> None:
    @FAST
    @given(texts)
    def check(text: str) -> None:
        result = interpreter.parse(text)
        assert isinstance(result["intent"]["name"], str)
        assert 0.0 <= float(result["intent"]["confidence"]) <= 1.0
        for entity in result["entities"]:
            assert {"entity", "value"} <= set(entity)

    check()


def test_the_entity_extractor_returns_spans_inside_the_text(interpreter: Interpreter) -> None:
    @FAST
    @given(texts)
    def check(text: str) -> None:
        for entity in interpreter.extractor.extract(text):
            found = entity.as_dict()
            assert 0 <= found["start"] <= found["end"] <= len(text)

    check()


@FAST
@given(texts)
def test_form_validators_answer_every_input_with_a_value_or_a_message(text: str) -> None:
    for check in (validation.validate_npi, validation.validate_phone, validation.validate_extension,
                  validation.validate_name, validation.match_subject, validation.validate_email_address,
                  validation.validate_message):
        result = check(text)
        assert result.ok or isinstance(result.error, str)
    assert isinstance(validation.extract_fields(text), dict)
    validation.field_named(text)


@FAST
@given(texts)
def test_normalisers_and_the_phi_scanner_take_any_text(text: str) -> None:
    tracking.normalize(text)
    normalize_ncid(text)
    normalize_answer(text)
    scan = phi.scan(text)
    assert isinstance(scan.text, str)
