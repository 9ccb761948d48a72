"""Pure validators for the Contact Us form fields (the seed's fields and rules).

Each returns a ``FieldResult``: the cleaned value, or an ``error`` code that the
responses YAML turns into an explanation. No wording lives here.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.privacy.phi import luhn_valid

MESSAGE_MAX = 400
SUBJECTS = (
    "MFA Issue",
    "Training Request",
    "Site Visit Request",
    "Fraud and Abuse Report",
    "Technical Issue",
    "Other Questions",
)
_SUBJECT_WORDS = {
    "MFA Issue": ["mfa", "mfa issue", "multi factor", "two factor", "2fa", "login", "authentication",
                  "e05", "e06", "confirmation call", "authenticator"],
    "Training Request": ["training", "train", "training request", "class", "webinar"],
    "Site Visit Request": ["site visit", "visit", "site visit request", "on site", "onsite"],
    "Fraud and Abuse Report": ["fraud", "abuse", "fraud and abuse", "report fraud", "scam"],
    "Technical Issue": ["technical", "technical issue", "tech", "bug", "broken", "website error"],
    "Other Questions": ["other", "other questions", "question", "something else", "general"],
}
_NAME = re.compile(r"^[A-Za-z\u00C0-\u024F][A-Za-z\u00C0-\u024F .'\-]{0,49}$")


@dataclass(frozen=True)
class FieldResult:
    value: str | None = None
    error: str | None = None
    extra: dict[str, object] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def npi_check_digit_ok(npi: str) -> bool:
    """NPI check digit: Luhn over the prefix 80840 and all ten digits."""
    return len(npi) == 10 and npi.isdigit() and luhn_valid("80840" + npi)


def validate_npi(raw: str) -> FieldResult:
    digits = re.sub(r"[\s-]", "", raw or "")
    if not digits.isdigit():
        return FieldResult(error="not_digits")
    if len(digits) != 10:
        return FieldResult(error="length", extra={"digits": len(digits)})
    if digits[0] not in "12" or not npi_check_digit_ok(digits):
        return FieldResult(error="check_digit")
    return FieldResult(value=digits)


def validate_phone(raw: str) -> FieldResult:
    """US phone shown as (000) 000-0000; an extension comes back in ``extra['ext']``."""
    try:
        number = phonenumbers.parse(raw or "", "US")
    except phonenumbers.NumberParseException:
        return FieldResult(error="unparsable")
    if number.country_code != 1 or not phonenumbers.is_valid_number(number):
        return FieldResult(error="invalid")
    national = str(number.national_number)
    formatted = f"({national[0:3]}) {national[3:6]}-{national[6:10]}"
    return FieldResult(value=formatted, extra={"ext": number.extension or None})


def validate_extension(raw: str) -> FieldResult:
    digits = re.sub(r"^\s*(?:ext\.?|extension|x)\s*", "", raw or "", flags=re.I).strip()
    if not digits:
        return FieldResult(value=None)
    if not digits.isdigit() or len(digits) > 6:
        return FieldResult(error="invalid")
    return FieldResult(value=digits)


def validate_name(raw: str) -> FieldResult:
    name = re.sub(r"\s+", " ", (raw or "").strip())
    if not name:
        return FieldResult(error="empty")
    if len(name) > 50:
        return FieldResult(error="too_long")
    if not _NAME.match(name):
        return FieldResult(error="characters")
    return FieldResult(value=name)


def match_subject(raw: str) -> FieldResult:
    """One of the form's six subjects from a synonym, a typo or a number 1-6."""
    text = re.sub(r"[^a-z0-9 ]", " ", (raw or "").lower()).strip()
    text = re.sub(r"\s+", " ", text)
    if not text:
        return FieldResult(error="unknown")
    if text.isdigit() and 1 <= int(text) <= len(SUBJECTS):
        return FieldResult(value=SUBJECTS[int(text) - 1])
    for subject in SUBJECTS:
        if text == subject.lower():
            return FieldResult(value=subject)
    lookup = {word: subject for subject, words in _SUBJECT_WORDS.items() for word in words}
    close = difflib.get_close_matches(text, list(lookup), n=1, cutoff=0.8)
    if close:
        return FieldResult(value=lookup[close[0]])
    for word in sorted(lookup, key=len, reverse=True):
        if re.search(rf"\b{re.escape(word)}\b", text):
            return FieldResult(value=lookup[word])
    return FieldResult(error="unknown")


def validate_email_address(raw: str) -> FieldResult:
    try:
        info = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError:
        return FieldResult(error="invalid")
    return FieldResult(value=info.normalized)


def validate_message(raw: str) -> FieldResult:
    """At most 400 characters; ``extra`` says how many remain or how many to cut."""
    message = (raw or "").strip()
    if not message:
        return FieldResult(error="empty", extra={"remaining": MESSAGE_MAX, "over": 0})
    if len(message) > MESSAGE_MAX:
        return FieldResult(error="too_long", extra={"remaining": 0, "over": len(message) - MESSAGE_MAX})
    return FieldResult(value=message, extra={"remaining": MESSAGE_MAX - len(message), "over": 0})


_EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_NPI_IN_TEXT = re.compile(r"(?<![\d-])\d{10}(?![\d-])")
_FULL_NAME = re.compile(
    r"\b(?:i am|i'm|im|my name is|name is|this is|name:)\s+"
    r"([A-Z][A-Za-z'\-]+)\s+([A-Z][A-Za-z'\-]+)",
    re.I,
)
_FIELD_WORDS = {
    "npi": ["npi", "provider id", "provider number"],
    "phone": ["phone", "number", "telephone", "cell"],
    "phone_ext": ["extension", "ext"],
    "last_name": ["last name", "surname", "family name"],
    "first_name": ["first name", "given name"],
    "subject": ["subject", "topic"],
    "email": ["email", "e-mail", "mail address"],
    "message": ["message", "description", "details"],
}


def extract_fields(text: str) -> dict[str, str]:
    """Every form field one free-text answer reveals (valid values only).

    "I'm Jane Smith, 919-555-0134 ext 12, jane@clinic.org, NPI 1234567893" fills five.
    """
    found: dict[str, str] = {}
    text = text or ""
    email = _EMAIL_IN_TEXT.search(text)
    if email and validate_email_address(email.group()).ok:
        found["email"] = validate_email_address(email.group()).value or ""
    rest = _EMAIL_IN_TEXT.sub(" ", text)
    for candidate in _NPI_IN_TEXT.findall(rest):
        npi = validate_npi(candidate)
        if npi.ok and npi.value:
            found["npi"] = npi.value
            rest = rest.replace(candidate, " ")
            break
    for match in phonenumbers.PhoneNumberMatcher(rest, "US"):
        phone = validate_phone(match.raw_string)
        if phone.ok and phone.value:
            found["phone"] = phone.value
            ext = (phone.extra or {}).get("ext")
            if ext:
                found["phone_ext"] = str(ext)
            break
    name = _FULL_NAME.search(rest)
    if name:
        first, last = validate_name(name.group(1)), validate_name(name.group(2))
        if first.ok and last.ok and first.value and last.value:
            found["first_name"], found["last_name"] = first.value, last.value
    return found


def field_named(text: str) -> str | None:
    """Which form field a correction ("change the email") names, if any."""
    lowered = (text or "").lower()
    best: tuple[int, str] | None = None
    for slot, words in _FIELD_WORDS.items():
        for word in words:
            if re.search(rf"\b{re.escape(word)}\b", lowered):
                score = len(word)
                if best is None or score > best[0]:
                    best = (score, slot)
    return best[1] if best else None
