"""Detect and redact PHI/PII in free text.

The seed tells users to keep PHI and PII out of the form and emails. We cannot stop
them typing it, so every user turn is scanned before it is stored: each finding is
replaced by a label such as ``[redacted SSN]`` and only the *kinds* found are kept,
never the values. Detectors favour precision on what help-desk users really type
(NPIs, phone numbers, tracking numbers, error codes) over catching every format.

Issue 14: the text is first normalised, so the same number written differently is found
the same way: Unicode NFKC (full-width digits), format characters removed (zero-width
space, soft hyphen, ...), every dash and space character unified, and digits spelled out
one by one ("1 2 3 - 4 5 - ...") joined. When something is found, the redacted text is the
normalised one; text with no finding is returned exactly as typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

LABELS = {
    "ssn": "[redacted SSN]",
    "card_security_code": "[redacted card security code]",
    "dob": "[redacted date of birth]",
    "medicaid_id": "[redacted Medicaid ID]",
    "card_number": "[redacted card number]",
    "bank_account": "[redacted account number]",
}

# Spans that look numeric but are ours or harmless; masked before detection.
_TRACKING = re.compile(r"\bMFA[- ]?(?:[0-9A-Z]{4}[- ]?){2}[0-9A-Z]{4}\b", re.I)
_NPI_CONTEXT = re.compile(
    r"\b(?:npi|provider\s*(?:id|number|#))\b[^0-9]{0,20}(\d{10})\b", re.I
)
_PHONE = re.compile(r"(?<![\d-])(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?![\d-])")

_SSN = re.compile(r"(?<![\d.-])(?!000|666|9\d\d)\d{3}([-. ]?)(?!00)\d{2}\1(?!0000)\d{4}(?![\d-]|\.\d)")
_MEDICAID = re.compile(r"(?<![\w-])\d{9}[A-Za-z](?![\w-])")
_MEDICAID_CONTEXT = re.compile(
    r"\b(?:recipient|medicaid|member|beneficiary|patient)\s*(?:id|number|no\.?|#)\s*(?:is|:|#)?\s*"
    r"([A-Za-z0-9][A-Za-z0-9-]{4,19})\b",
    re.I,
)
_ACCOUNT = re.compile(
    r"\b(?:bank\s+)?(?:account|acct|routing)\s*(?:number|no\.?|#)?\s*(?:is|:|#)?\s*(\d[\d -]{4,20}\d)\b",
    re.I,
)
_CVV = re.compile(r"\b(?:cvv2?|cvc2?|cid|csc|security\s+code)\b\s*(?:is|:|#|=|-)?\s*(\d{3,4})\b", re.I)
_CARD = re.compile(
    r"(?<![\d-])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2}[ -]\d{1,7}|\d{4}[ -]\d{6}[ -]\d{5})(?![\d-])"
)

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = re.compile(
    r"(?<![\d/-])(?:"
    r"(?P<m1>\d{1,2})[/.-](?P<d1>\d{1,2})[/.-](?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    rf"|{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?P<y3>\d{{4}})"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\.?,?\s+(?P<y4>\d{{4}})"
    rf"|\d{{1,2}}[-/.]{_MONTHS}[-/.](?P<y5>\d{{4}}|\d{{2}})"  # 02-Jan-1980
    rf"|{_MONTHS}[-/.]\d{{1,2}}[-/.](?P<y6>\d{{4}})"  # Jan-02-1980
    r")(?![\d/-])",
    re.I,
)
_DOB_WORDS = re.compile(r"\b(?:dob|d\.o\.b\.?|born|birth|birthday|birthdate|date\s+of\s+birth)\b", re.I)
# Without a birth word, only a full date whose year could be an adult's birth year.
_BIRTH_YEARS = range(1900, 2011)


@dataclass(frozen=True)
class PhiScan:
    """The redacted text and the kinds of PHI/PII found (never the values)."""

    text: str
    kinds: tuple[str, ...]

    @property
    def found(self) -> bool:
        return bool(self.kinds)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _year(match: re.Match[str]) -> int | None:
    for group in ("y1", "y2", "y3", "y4", "y5", "y6"):
        raw = match.group(group)
        if raw:
            year = int(raw)
            return year + (1900 if year > 30 else 2000) if len(raw) == 2 else year
    return None


# Every dash-like character (Unicode category Pd, and the minus signs) reads as "-"; every
# space-like one (Zs) as " "; format characters (Cf: zero-width space and joiners, soft
# hyphen, BOM, direction marks) are dropped, as they are invisible anyway.
_MINUS = frozenset("\u2212\ufe63\uff0d\u2043")


def _unified(char: str) -> str:
    if char.isascii():
        return " " if char == "\t" else char
    kind = unicodedata.category(char)
    if kind == "Cf":
        return ""
    if kind == "Pd" or char in _MINUS:
        return "-"
    return " " if kind == "Zs" else char


# Digits typed one at a time: "1 2 3 - 4 5 - 6 7 8 9" (single digits or dashes between spaces).
_SPELLED = re.compile(r"(?<![\w-])\d(?: +(?:\d|-)(?![\w-])){5,}")


def normalize(text: str) -> str:
    """The text as the detectors read it (see the module's docstring)."""
    if not text.isascii():
        text = "".join(map(_unified, unicodedata.normalize("NFKC", text)))
    elif "\t" in text:
        text = text.replace("\t", " ")
    if " " in text:
        text = _SPELLED.sub(lambda m: m.group().replace(" ", ""), text)
    return text


def scan(text: str) -> PhiScan:
    """Return ``text`` with PHI/PII replaced by labels, and the kinds found."""
    if not text:
        return PhiScan(text=text or "", kinds=())
    original = text
    text = normalize(text)
    protected: list[tuple[int, int]] = []
    for pattern in (_TRACKING, _PHONE):
        protected += [m.span() for m in pattern.finditer(text)]
    protected += [m.span(1) for m in _NPI_CONTEXT.finditer(text)]

    findings: list[tuple[int, int, str]] = []

    def free(start: int, end: int) -> bool:
        spans = protected + [(s, e) for s, e, _ in findings]
        return all(end <= s or start >= e for s, e in spans)

    def add(start: int, end: int, kind: str) -> None:
        if free(start, end):
            findings.append((start, end, kind))

    for m in _MEDICAID_CONTEXT.finditer(text):
        if any(ch.isdigit() for ch in m.group(1)):
            add(*m.span(1), "medicaid_id")
    for m in _MEDICAID.finditer(text):
        add(*m.span(), "medicaid_id")
    for m in _ACCOUNT.finditer(text):
        add(*m.span(1), "bank_account")
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            add(*m.span(), "card_number")
    for m in _SSN.finditer(text):
        add(*m.span(), "ssn")
    if any(kind == "card_number" for _, _, kind in findings) or _CVV.search(text):
        for m in _CVV.finditer(text):
            add(*m.span(1), "card_security_code")
    for m in _DATE.finditer(text):
        window = text[max(0, m.start() - 40): m.start()]
        year = _year(m)
        if _DOB_WORDS.search(window) or (year is not None and year in _BIRTH_YEARS):
            add(*m.span(), "dob")

    if not findings:
        return PhiScan(text=original, kinds=())
    redacted = text
    for start, end, kind in sorted(findings, reverse=True):
        redacted = redacted[:start] + LABELS[kind] + redacted[end:]
    kinds = tuple(dict.fromkeys(kind for _, _, kind in sorted(findings)))
    return PhiScan(text=redacted, kinds=kinds)
