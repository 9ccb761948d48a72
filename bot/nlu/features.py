"""What the intent classifier reads: the message with entity values masked, and entity types.

Training (scikit-learn) and serving (numpy) both start from `prepare`, so the two see the
same text. Entity spans with free values become a placeholder word first, so "E05" and
"E06" (or two phone numbers) look alike to the classifier; which entity types the
extractors found is a second, tiny column of features.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Sequence

from bot.nlu.entities import Entity

# Entities whose surface form says nothing about intent.
_PLACEHOLDER_ENTITIES = frozenset({"error_code", "phone_number", "email", "npi", "tracking_number"})


@dataclass(frozen=True)
class Prepared:
    text: str  # lower case, NFKC, entity values masked
    entity_types: str  # the found entity types, space separated and sorted


def prepare(text: str, entities: Sequence[Entity] = ()) -> Prepared:
    for ent in sorted(entities, key=lambda e: e.start, reverse=True):
        if ent.entity in _PLACEHOLDER_ENTITIES:
            text = f"{text[:ent.start]} {ent.entity.replace('_', '')}value {text[ent.end:]}"
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    return Prepared(text=text, entity_types=" ".join(sorted({e.entity for e in entities})))
