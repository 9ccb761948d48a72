"""Phone numbers: parse what a user types into E.164 (US by default)."""

from __future__ import annotations

import phonenumbers

from bot.errors import BadRequest


def to_e164(text: str, *, region: str = "US") -> str:
    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise BadRequest("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise BadRequest("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """Masked for chat and logs: only the last two digits show."""
    return "(•••) •••-••" + e164[-2:] if e164 else ""
