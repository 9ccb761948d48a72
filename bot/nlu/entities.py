"""Entity extraction that survives how people really type.

Rule-based on purpose: error codes, NPIs, phone numbers and tracking numbers have exact
shapes (and check digits) that a statistical tagger would only approximate. The phrase
lists (synonyms, annotated spans, lookups) and regexes come from data/nlu.yml, so
support staff can extend them without touching Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from bot.nlu.training_data import TrainingData
from bot import tracking_numbers as tracking

# The canonical values of DESIGN.md's entity contract.
CANONICAL: dict[str, frozenset[str]] = {
    "error_code": frozenset({"E05", "E06"}),
    "call_failure": frozenset(
        {"hash_not_pressed", "no_input_timeout", "call_disconnected", "no_call_received"}
    ),
    "mfa_method": frozenset({"phone", "app"}),
    # Where an out-of-scope request belongs; the out_of_scope rules route by it.
    "off_topic": frozenset({"ncid_account", "provider_enrollment", "claims", "eligibility",
                            "prior_approval", "payments", "other_system"}),
}
# A regex named after a canonical value emits that value of its entity.
_VALUE_ENTITY = {value: entity for entity, values in CANONICAL.items() for value in values}
ENTITY_TYPES = ("error_code", "call_failure", "mfa_method", "phone_number", "email", "npi",
                "tracking_number")
# Single words too generic to mean a method on their own ("the call hung up").
_AMBIGUOUS_METHOD_WORDS = frozenset({"call", "calls", "phone", "phones", "app", "apps", "cell"})
# Priority when two candidates overlap: the more specific shape wins.
# off_topic is a separate layer: it never hides (or is hidden by) another entity.
_SEPARATE_LAYERS = frozenset({"off_topic"})
_PRIORITY = {"tracking_number": 6, "email": 5, "npi": 4, "phone_number": 3, "error_code": 2,
             "call_failure": 1, "mfa_method": 0}

_DEFAULT_REGEXES = {
    "error_code": [r"\b[Ee]\s?[-_#:.]?\s?[0Oo]?[-\s]?[56]\b"],
    "npi": [r"\b[12]\d{9}\b"],
    "tracking_number": [r"\bMFA-?[0-9A-HJKMNP-TV-Z]{4}-?[0-9A-HJKMNP-TV-Z]{4}-?[0-9A-HJKMNP-TV-Z]{4}\b"],
    "email": [r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"],
}


# Where a phrase may begin: a character with no word character before it.
_WORD_STARTS = re.compile(r"(?<!\w)\S")


@dataclass(frozen=True)
class Entity:
    entity: str
    value: str
    start: int
    end: int
    extractor: str

    def as_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "value": self.value, "start": self.start,
                "end": self.end, "extractor": self.extractor}


def npi_is_valid(digits: str) -> bool:
    """The NPI check digit: Luhn over the prefix 80840 plus the first nine digits."""
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + digits[:9])):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10 == int(digits[9])


def _error_code_value(text: str, labelled: bool) -> str | None:
    digit = re.findall(r"[56]", text)
    return f"E0{digit[-1]}" if digit else None


def _npi_value(text: str, labelled: bool) -> str | None:
    """Ten digits; a bare number must pass the check digit, one the user called an NPI need not
    (the ticket form then says what is wrong with it)."""
    digits = re.sub(r"\D", "", text)
    if len(digits) != 10:
        return None
    return digits if labelled or npi_is_valid(digits) else None


def _tracking_value(text: str, labelled: bool) -> str | None:
    """Ours in canonical form (MFA-XXXX-XXXX-XXXX); any other reference the user gives after
    "tracking number", "ticket", "case"... as typed (upper case, separators as dashes), since
    the NCTracks Contact Center numbers its own inquiries differently."""
    typed = re.sub(r"[\s\-_.]+", "-", text.strip().upper()).strip("-")
    ours = tracking.normalize(typed)
    compact = re.sub(r"[^0-9A-Z]", "", typed)
    # "MFA registration" has twelve letters after MFA too: ours have a digit or came with dashes.
    if ours and typed.startswith("MFA") and (any(c.isdigit() for c in compact[3:]) or text.count("-") >= 2):
        return ours
    if labelled:
        return typed if len(compact) >= 5 and sum(c.isdigit() for c in compact) >= 3 else None
    # Unlabelled and without the prefix: only the 4-4-4 shape with digits in it.
    return typed if ours and sum(c.isdigit() for c in compact) >= 2 else None


def _email_value(text: str, labelled: bool) -> str | None:
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


_NORMALISERS: dict[str, Callable[[str, bool], str | None]] = {
    "error_code": _error_code_value,
    "npi": _npi_value,
    "tracking_number": _tracking_value,
    "email": _email_value,
}


def _phrase_pattern(phrase: str) -> str:
    out = []
    for ch in phrase:
        if ch.isspace():
            out.append(r"\s++")  # possessive: long runs of spaces cost linear time
        elif ch in "-–—":
            out.append(r"\s*+[-–—]?\s*+")
        elif ch in "'’":
            out.append(r"['’]?")
        else:
            out.append(re.escape(ch))
    return "".join(out)


class EntityExtractor:
    """Regexes, phrase lists and phone-number parsing, built once from the training data."""

    def __init__(self, data: TrainingData) -> None:
        phrases: dict[str, tuple[str, str]] = {}
        value_entity = {v: name for name, values in CANONICAL.items() for v in values}
        for example in data.examples:
            for span in example.entities:
                if span.entity in CANONICAL and span.value in CANONICAL[span.entity]:
                    phrases.setdefault(span.text.lower().strip(), (span.entity, span.value))
        for variant, canonical in data.synonyms.items():
            entity = value_entity.get(canonical)
            if entity:
                phrases.setdefault(variant.strip(), (entity, canonical))
        for name, items in data.lookups.items():
            if name in CANONICAL:
                for item in items:
                    key = item.lower().strip()
                    if key in data.synonyms and data.synonyms[key] in CANONICAL[name]:
                        phrases.setdefault(key, (name, data.synonyms[key]))
        self._phrases = {
            p: ev for p, ev in phrases.items()
            if p and not (ev[0] == "mfa_method" and p in _AMBIGUOUS_METHOD_WORDS)
            and not re.fullmatch(r"e?\s*[-_#:.]?\s*0?\s*[56]", p)  # bare codes: the regex handles them
        }
        # One alternation per first character, tried only where a word starts: a single
        # alternation of every phrase cost 0.5 ms a message, this costs a few microseconds.
        ordered = sorted(self._phrases, key=len, reverse=True)
        buckets: dict[str, list[str]] = {}
        for phrase in ordered:
            buckets.setdefault(phrase[0].lower(), []).append(phrase)
        self._phrase_buckets = {
            first: (re.compile("|".join(f"({_phrase_pattern(p)})(?!\\w)" for p in phrases), re.IGNORECASE),
                    phrases)
            for first, phrases in buckets.items()
        }
        # Regexes are named after an entity (a normaliser makes the value) or after a canonical
        # value (e.g. `regex: hash_not_pressed`). A named group `value` marks the entity inside
        # its context ("NPI is (?P<value>...)"), and such a labelled match may skip a check digit.
        regexes = {**_DEFAULT_REGEXES, **{k: v for k, v in data.regexes.items()
                                          if k in _NORMALISERS or k in _VALUE_ENTITY}}
        self._regexes = {
            name: [re.compile(p, re.IGNORECASE if name != "npi" else 0) for p in patterns]
            for name, patterns in regexes.items()
        }

    def extract(self, text: str) -> list[Entity]:
        candidates: list[Entity] = []
        for name, patterns in self._regexes.items():
            for pattern in patterns:
                for m in pattern.finditer(text):
                    labelled = "value" in pattern.groupindex and m.group("value") is not None
                    start, end = m.span("value") if labelled else m.span()
                    entity = _VALUE_ENTITY.get(name, name)
                    value = name if name in _VALUE_ENTITY else _NORMALISERS[name](text[start:end], labelled)
                    if value and end > start:
                        candidates.append(Entity(entity, value, start, end, "RegexEntityExtractor"))
        candidates.extend(self._phrase_matches(text))
        candidates.extend(self._phones(text))
        main = _resolve_overlaps([c for c in candidates if c.entity not in _SEPARATE_LAYERS])
        extra = _resolve_overlaps([c for c in candidates if c.entity in _SEPARATE_LAYERS])
        return sorted(main + extra, key=lambda e: (e.start, e.entity))

    def _phrase_matches(self, text: str) -> list[Entity]:
        found = []
        pos = 0
        for start in _WORD_STARTS.finditer(text):
            i = start.start()
            if i < pos:
                continue
            bucket = self._phrase_buckets.get(text[i].lower())
            if bucket is None:
                continue
            m = bucket[0].match(text, i)
            if m and m.lastindex:
                entity, value = self._phrases[bucket[1][m.lastindex - 1]]
                found.append(Entity(entity, value, m.start(), m.end(), "PhraseEntityExtractor"))
                pos = m.end()
        return found

    @staticmethod
    def _phones(text: str) -> list[Entity]:
        found = []
        for match in phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.VALID):
            raw = match.raw_string
            # A bare ten-digit number with a valid NPI check digit is an NPI, not a phone.
            if re.fullmatch(r"\d{10}", raw) and npi_is_valid(raw):
                continue
            value = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found.append(Entity("phone_number", value, match.start, match.end, "PhoneNumberExtractor"))
        return found


def _resolve_overlaps(candidates: list[Entity]) -> list[Entity]:
    chosen: list[Entity] = []
    ranked = sorted(candidates, key=lambda e: (-(e.end - e.start), -_PRIORITY.get(e.entity, 0), e.start))
    for cand in ranked:
        if all(cand.end <= c.start or cand.start >= c.end for c in chosen):
            chosen.append(cand)
    return sorted(chosen, key=lambda e: e.start)
