"""The PHI/PII guard: a table of what must be redacted and what must be left alone."""

from __future__ import annotations

import pytest

from bot.privacy import scan

POSITIVES = [
    ("my ssn is 123-45-6789", "ssn", "123-45-6789"),
    ("SSN 123456789 please", "ssn", "123456789"),
    ("social 123 45 6789", "ssn", "123 45 6789"),
    ("my DOB is 01/02/1980", "dob", "01/02/1980"),
    ("born 3/4/85 in Raleigh", "dob", "3/4/85"),
    ("date of birth: 1975-07-04", "dob", "1975-07-04"),
    ("birthday March 5, 1990", "dob", "March 5, 1990"),
    ("patient seen 12/31/1961", "dob", "12/31/1961"),
    ("member 123456789A has no coverage", "medicaid_id", "123456789A"),
    ("recipient id is 900123456Z", "medicaid_id", "900123456Z"),
    ("medicaid id: AB1234567", "medicaid_id", "AB1234567"),
    ("card 4111 1111 1111 1111 exp 12/29", "card_number", "4111 1111 1111 1111"),
    ("visa 4111111111111111", "card_number", "4111111111111111"),
    ("amex 3782-822463-10005", "card_number", "3782-822463-10005"),
    ("bank account number 123456789012", "bank_account", "123456789012"),
    ("routing 021000021", "bank_account", "021000021"),
]

NEGATIVES = [
    "my NPI is 1234567893",
    "provider id 1234567893",
    "1234567893",
    "call me at 919-555-0134",
    "(919) 555-0134 ext 12",
    "the call center is 1-800-688-6696",
    "fax 855-710-1965",
    "ticket MFA-7K4P-9QXD-2MWA",
    "status of mfa 7k4p 9qxd 2mwa",
    "I got error E05 and then E06",
    "it called at 8:00 and 17:30",
    "I tried again on 11/20/2026",
    "wait 60 minutes then try",
    "ssn 000-12-3456",
    "ssn 666-12-3456",
    "ssn 912-34-5678",
    "card 4111 1111 1111 1112",
    "activation code 123 456 789",
]


@pytest.mark.parametrize(("text", "kind", "value"), POSITIVES)
def test_scan_redacts_phi(text: str, kind: str, value: str) -> None:
    result = scan(text)
    assert kind in result.kinds
    assert value not in result.text
    assert "[redacted" in result.text


@pytest.mark.parametrize("text", NEGATIVES)
def test_scan_leaves_non_phi_alone(text: str) -> None:
    result = scan(text)
    assert result.kinds == ()
    assert result.text == text


def test_scan_reports_kinds_not_values() -> None:
    result = scan("ssn 123-45-6789, dob 01/02/1980")
    assert result.kinds == ("ssn", "dob")
    assert "6789" not in repr(result)


def test_scan_keeps_npi_beside_an_ssn() -> None:
    result = scan("NPI 1234567893 and ssn 123-45-6789")
    assert result.text == "NPI 1234567893 and ssn [redacted SSN]"


def test_scan_of_empty_text_finds_nothing() -> None:
    assert not scan("").found
