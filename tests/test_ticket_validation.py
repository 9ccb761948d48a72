"""Contact Us form validators and free-text extraction."""

from __future__ import annotations

import pytest

from bot import tracking_numbers as tracking
from bot.tickets.validation import (
    SUBJECTS, extract_fields, field_named, match_subject, validate_email_address,
    validate_extension, validate_message, validate_name, validate_npi, validate_phone,
)


@pytest.mark.parametrize("raw", ["1234567893", "1234-567-893", " 1234567893 "])
def test_npi_with_valid_check_digit_is_accepted(raw: str) -> None:
    assert validate_npi(raw).value == "1234567893"


@pytest.mark.parametrize(("raw", "error"), [
    ("1234567890", "check_digit"),
    ("123456789", "length"),
    ("12345678931", "length"),
    ("12345abc93", "not_digits"),
    ("", "not_digits"),
    ("3234567891", "check_digit"),
])
def test_npi_errors_name_their_reason(raw: str, error: str) -> None:
    assert validate_npi(raw).error == error


@pytest.mark.parametrize(("raw", "phone", "ext"), [
    ("919-555-0134", "(919) 555-0134", None),
    ("(919) 555 0134 ext. 12", "(919) 555-0134", "12"),
    ("+1 919.555.0134 x305", "(919) 555-0134", "305"),
    ("9195550134", "(919) 555-0134", None),
])
def test_phone_is_shown_as_the_form_shows_it(raw: str, phone: str, ext: str | None) -> None:
    result = validate_phone(raw)
    assert result.value == phone
    assert (result.extra or {}).get("ext") == ext


@pytest.mark.parametrize("raw", ["555-0134", "hello", "+44 20 7946 0958", "123-456-7890"])
def test_phone_rejects_non_us_or_short_numbers(raw: str) -> None:
    assert not validate_phone(raw).ok


def test_extension_longer_than_six_digits_is_rejected() -> None:
    assert validate_extension("ext 1234567").error == "invalid"


@pytest.mark.parametrize(("raw", "ok"), [("Smith", True), ("O'Neil-Brown", True), ("J. R.", True),
                                         ("R2D2", False), ("", False), ("x" * 51, False)])
def test_names_allow_letters_and_punctuation_only(raw: str, ok: bool) -> None:
    assert validate_name(raw).ok is ok


@pytest.mark.parametrize(("raw", "subject"), [
    ("mfa", "MFA Issue"), ("MFA issue", "MFA Issue"), ("traning", "Training Request"),
    ("I'd like a site visit", "Site Visit Request"), ("report fraud", "Fraud and Abuse Report"),
    ("technical", "Technical Issue"), ("something else", "Other Questions"), ("3", "Site Visit Request"),
])
def test_subject_synonyms_and_typos_map_to_the_six_subjects(raw: str, subject: str) -> None:
    assert match_subject(raw).value == subject
    assert subject in SUBJECTS


def test_unknown_subject_is_an_error() -> None:
    assert match_subject("pizza").error == "unknown"


@pytest.mark.parametrize(("raw", "ok"), [("jane@clinic.org", True), ("Jane@Clinic.ORG", True),
                                         ("jane@", False), ("jane clinic.org", False)])
def test_email_is_checked_without_dns(raw: str, ok: bool) -> None:
    assert validate_email_address(raw).ok is ok


def test_message_reports_characters_remaining() -> None:
    assert validate_message("x" * 70).extra == {"remaining": 330, "over": 0}


def test_message_of_exactly_400_characters_is_accepted() -> None:
    assert validate_message("x" * 400).ok


def test_message_over_400_characters_says_how_many_to_cut() -> None:
    result = validate_message("x" * 412)
    assert result.error == "too_long"
    assert (result.extra or {})["over"] == 12


def test_one_answer_fills_several_fields() -> None:
    found = extract_fields("I'm Jane Smith, 919-555-0134 ext 12, jane@clinic.org, NPI 1234567893")
    assert found == {"first_name": "Jane", "last_name": "Smith", "phone": "(919) 555-0134",
                     "phone_ext": "12", "email": "jane@clinic.org", "npi": "1234567893"}


@pytest.mark.parametrize(("text", "slot"), [("change the email", "email"), ("fix my last name", "last_name"),
                                            ("the phone number is wrong", "phone"), ("change npi", "npi")])
def test_correction_names_the_field(text: str, slot: str) -> None:
    assert field_named(text) == slot


def test_tracking_numbers_have_the_documented_format() -> None:
    assert tracking.PATTERN.match(tracking.generate())


def test_tracking_numbers_do_not_repeat() -> None:
    assert len({tracking.generate() for _ in range(500)}) == 500


@pytest.mark.parametrize("raw", ["mfa-7k4p-9qxd-2mwa", "MFA 7K4P 9QXD 2MWA", "7K4P9QXD2MWA", "MFA-7K4P-9QXD-2MWA"])
def test_tracking_number_input_is_normalised(raw: str) -> None:
    assert tracking.normalize(raw) == "MFA-7K4P-9QXD-2MWA"


def test_tracking_number_confusable_letters_are_mapped() -> None:
    assert tracking.normalize("MFA-O1IL-0000-0000") == "MFA-0111-0000-0000"


@pytest.mark.parametrize("raw", ["MFA-7K4P-9QXD", "MFA-7K4P-9QXD-2MWU", ""])
def test_malformed_tracking_numbers_are_rejected(raw: str) -> None:
    assert tracking.normalize(raw) is None
