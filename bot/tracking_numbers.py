"""Tracking numbers: ``MFA-XXXX-XXXX-XXXX``. A leaf: tickets issue them, the NLU reads them.

Twelve Crockford base32 characters (0-9, A-Z without I, L, O, U) drawn from
``secrets``: 60 random bits, so one number says nothing about any other. Input is
normalised the Crockford way: case and separators ignored, O -> 0, I/L -> 1.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PATTERN = re.compile(r"^MFA-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def generate() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(12))
    return f"MFA-{body[0:4]}-{body[4:8]}-{body[8:12]}"


def normalize(raw: str) -> str | None:
    """The canonical form of a typed tracking number, or None if it cannot be one."""
    compact = re.sub(r"[\s\-_.]", "", raw or "").upper()
    if compact.startswith("MFA"):
        compact = compact[3:]
    compact = compact.translate(_CONFUSABLE)
    if len(compact) != 12 or any(ch not in ALPHABET for ch in compact):
        return None
    return f"MFA-{compact[0:4]}-{compact[4:8]}-{compact[8:12]}"


_IN_TEXT = re.compile(
    r"\b(?:MFA[\s\-_.]*)?([0-9A-Z]{4})[\s\-_.]*([0-9A-Z]{4})[\s\-_.]*([0-9A-Z]{4})\b", re.I
)


def find_in_text(text: str) -> str | None:
    """The first tracking number in a sentence ("status of mfa 7k4p 9qxd 2mwa?")."""
    for match in _IN_TEXT.finditer(text or ""):
        candidate = normalize("".join(match.groups()))
        if candidate and (match.group(0).upper().startswith("MFA") or any(c.isdigit() for c in candidate[4:])):
            return candidate
    return None


# A reference in another shape (the Contact Center's own e-mail, a typo'd prefix): looked up as
# typed, so the answer is "not found" rather than "that is not a tracking number".
_OTHER_REFERENCE = re.compile(r"\b([A-Z]{2,6}[-\s#]?\d[\dA-Z-]{3,}|\d{6,})\b", re.I)


def reference_in_text(text: str) -> str | None:
    """Our tracking number in a sentence, else any other reference-like token, upper-cased."""
    found = find_in_text(text)
    if found:
        return found
    match = _OTHER_REFERENCE.search(text or "")
    return re.sub(r"\s+", "-", match.group(1).upper()) if match else None
