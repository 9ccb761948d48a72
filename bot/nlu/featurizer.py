"""TF-IDF features over word n-grams and in-word character n-grams.

Character n-grams make the classifier robust to the typos help-desk users make
("autheticator", "actvation"); entity spans are replaced by a placeholder token first
so "E05" and "E06" (or two phone numbers) look alike to the intent classifier.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from typing import Iterable, Sequence

from bot.nlu.entities import Entity

_TOKEN = re.compile(r"__[a-z_]+__|[a-z0-9#]+(?:'[a-z]+)?")
# Entities whose surface form says nothing about intent.
ENTITY_FEATURE_WEIGHT = 1.0
_PLACEHOLDER_ENTITIES = frozenset({"error_code", "phone_number", "email", "npi", "tracking_number"})


def normalise(text: str, entities: Sequence[Entity] = ()) -> str:
    for ent in sorted(entities, key=lambda e: e.start, reverse=True):
        if ent.entity in _PLACEHOLDER_ENTITIES:
            text = f"{text[:ent.start]} __{ent.entity}__ {text[ent.end:]}"
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return text


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


class TfidfFeaturizer:
    def __init__(self, *, word_ngrams: tuple[int, int] = (1, 2), char_ngrams: tuple[int, int] = (2, 5)) -> None:
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.vocabulary: dict[str, int] = {}
        self.idf: list[float] = []

    def _grams(self, text: str) -> Counter[str]:
        words = tokens(text)
        grams: Counter[str] = Counter()
        lo, hi = self.word_ngrams
        for n in range(lo, hi + 1):
            for i in range(len(words) - n + 1):
                grams["w:" + " ".join(words[i : i + n])] += 1
        clo, chi = self.char_ngrams
        for word in words:
            if word.startswith("__"):
                continue
            padded = f"<{word}>"
            for n in range(clo, chi + 1):
                for i in range(len(padded) - n + 1):
                    grams["c:" + padded[i : i + n]] += 1
        return grams

    def fit(self, texts: Iterable[str], entity_types: Iterable[str] = ()) -> "TfidfFeaturizer":
        docs = [self._grams(t) for t in texts]
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        for name in set(entity_types):
            df["e:" + name] += 1
        # Sorted so that the same data gives the same model file, byte for byte.
        self.vocabulary = {g: i + 1 for i, g in enumerate(sorted(df))}  # index 0 is the bias
        n = len(docs)
        self.idf = [1.0] + [math.log((1 + n) / (1 + df[g])) + 1.0 for g in sorted(df)]
        return self

    def transform_one(self, text: str, entity_types: Iterable[str] = ()) -> tuple[list[int], list[float]]:
        grams = self._grams(text)
        idx: list[int] = []
        val: list[float] = []
        for gram, count in grams.items():
            j = self.vocabulary.get(gram)
            if j is not None:
                idx.append(j)
                val.append((1.0 + math.log(count)) * self.idf[j])
        norm = math.sqrt(sum(v * v for v in val)) or 1.0
        val = [v / norm for v in val]
        # Entity presence is added after normalisation so a long message does not drown it.
        for name in sorted(set(entity_types)):
            j = self.vocabulary.get("e:" + name)
            if j is not None:
                idx.append(j)
                val.append(ENTITY_FEATURE_WEIGHT)
        pairs = sorted(zip(idx, val))
        return [0] + [p[0] for p in pairs], [1.0] + [p[1] for p in pairs]


def featurize(featurizer: TfidfFeaturizer, text: str, entities: Sequence[Entity]) -> tuple[list[int], list[float]]:
    """The one path from raw text to a feature row, shared by training and prediction."""
    return featurizer.transform_one(normalise(text, entities), [e.entity for e in entities])
