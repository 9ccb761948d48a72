"""Serving the fitted scikit-learn model with numpy alone.

scikit-learn takes about a second and 80 MB to import, more than the start-up budget
leaves (bench/README.md), so `helpdesk train` fits the pipeline with scikit-learn and
exports what it learnt: each TfidfVectorizer's vocabulary and idf_, and the linear
model's coef_ and intercept_. This module applies those arrays to one message. The
analyzers below are scikit-learn's own (`_word_ngrams`, `_char_wb_ngrams`, `_char_ngrams`
of sklearn.feature_extraction.text, 1.9), and tests/test_nlu_vectors.py checks that the
rows and probabilities here equal scikit-learn's on every training sentence and on
random text.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

_WHITE_SPACES = re.compile(r"\s\s+")


def _word_ngrams(tokens: list[str], lo: int, hi: int) -> list[str]:
    grams = list(tokens) if lo == 1 else []
    start = max(lo, 2)
    for n in range(start, min(hi + 1, len(tokens) + 1)):
        for i in range(len(tokens) - n + 1):
            grams.append(" ".join(tokens[i : i + n]))
    return grams


def _char_wb_ngrams(text: str, lo: int, hi: int) -> list[str]:
    grams: list[str] = []
    for w in _WHITE_SPACES.sub(" ", text).split():
        w = " " + w + " "
        for n in range(lo, hi + 1):
            offset = 0
            grams.append(w[offset : offset + n])
            while offset + n < len(w):
                offset += 1
                grams.append(w[offset : offset + n])
            if offset == 0:  # a short word is counted once
                break
    return grams


def _char_ngrams(text: str, lo: int, hi: int) -> list[str]:
    text = _WHITE_SPACES.sub(" ", text)
    grams: list[str] = []
    for n in range(lo, min(hi + 1, len(text) + 1)):
        grams.extend(text[i : i + n] for i in range(len(text) - n + 1))
    return grams


@dataclass
class FittedTfidf:
    """One fitted TfidfVectorizer (or, with idf None and binary, a CountVectorizer)."""

    analyzer: str  # word, char_wb, char, or "split" (whitespace tokens, for entity types)
    ngram_range: tuple[int, int]
    token_pattern: str
    lowercase: bool
    binary: bool
    sublinear_tf: bool
    norm: str | None
    vocabulary: dict[str, int]
    idf: np.ndarray | None

    def __post_init__(self) -> None:
        self._analyze = self._analyzer()

    def _analyzer(self) -> Callable[[str], list[str]]:
        lo, hi = self.ngram_range
        if self.analyzer == "word":
            pattern = re.compile(self.token_pattern)
            return lambda text: _word_ngrams(pattern.findall(text), lo, hi)
        if self.analyzer == "char_wb":
            return lambda text: _char_wb_ngrams(text, lo, hi)
        if self.analyzer == "char":
            return lambda text: _char_ngrams(text, lo, hi)
        if self.analyzer == "split":
            return str.split
        raise ValueError(f"unsupported analyzer {self.analyzer!r}")

    def transform(self, text: str) -> tuple[list[int], list[float]]:
        """The sparse row of one text: column indices and values, as scikit-learn makes it."""
        if self.lowercase:
            text = text.lower()
        counts = Counter(self._analyze(text))
        idx: list[int] = []
        val: list[float] = []
        for gram, count in counts.items():
            j = self.vocabulary.get(gram)
            if j is None:
                continue
            tf = 1.0 if self.binary else float(count)
            if self.sublinear_tf:
                tf = 1.0 + math.log(tf)
            if self.idf is not None:
                tf *= float(self.idf[j])
            idx.append(j)
            val.append(tf)
        if self.norm == "l2":
            scale = math.sqrt(sum(v * v for v in val))
            if scale > 0:
                val = [v / scale for v in val]
        elif self.norm == "l1":
            scale = sum(abs(v) for v in val)
            if scale > 0:
                val = [v / scale for v in val]
        return idx, val

    def to_json(self) -> dict[str, Any]:
        return {"analyzer": self.analyzer, "ngram_range": list(self.ngram_range),
                "token_pattern": self.token_pattern, "lowercase": self.lowercase,
                "binary": self.binary, "sublinear_tf": self.sublinear_tf, "norm": self.norm,
                "vocabulary": sorted(self.vocabulary, key=self.vocabulary.__getitem__)}

    @classmethod
    def from_json(cls, doc: dict[str, Any], idf: np.ndarray | None) -> "FittedTfidf":
        lo, hi = (int(x) for x in doc["ngram_range"])
        return cls(analyzer=str(doc["analyzer"]), ngram_range=(lo, hi), token_pattern=str(doc["token_pattern"]),
                   lowercase=bool(doc["lowercase"]), binary=bool(doc["binary"]),
                   sublinear_tf=bool(doc["sublinear_tf"]), norm=doc["norm"],
                   vocabulary={g: i for i, g in enumerate(doc["vocabulary"])}, idf=idf)


@dataclass
class Features:
    """Several fitted vectorizers side by side, like scikit-learn's ColumnTransformer.

    `columns` names which prepared column each reads: "text" or "entity_types".
    """

    parts: list[tuple[str, FittedTfidf]]

    @property
    def size(self) -> int:
        return sum(len(v.vocabulary) for _, v in self.parts)

    def row(self, columns: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
        idx: list[int] = []
        val: list[float] = []
        offset = 0
        for column, vectorizer in self.parts:
            i, v = vectorizer.transform(columns[column])
            idx.extend(j + offset for j in i)
            val.extend(v)
            offset += len(vectorizer.vocabulary)
        return np.asarray(idx, dtype=np.int64), np.asarray(val, dtype=np.float64)


@dataclass
class LinearHead:
    """A fitted multinomial LogisticRegression: coef_.T and intercept_, and its classes."""

    labels: list[str]
    weights: np.ndarray  # (n_features, n_classes): a message's few columns are one gather
    intercept: np.ndarray  # (n_classes,)

    def proba(self, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
        logits = self.intercept + val @ self.weights[idx] if len(idx) else self.intercept.copy()
        if logits.shape[0] == 1:  # a two-class model keeps one column, as scikit-learn does
            p1 = 1.0 / (1.0 + np.exp(-logits[0]))
            return np.array([1.0 - p1, p1])
        logits = logits - logits.max()
        p = np.exp(logits)
        return p / p.sum()

    def rank(self, idx: np.ndarray, val: np.ndarray) -> list[tuple[str, float]]:
        probs = self.proba(idx, val)
        order = np.argsort(-probs, kind="stable")
        return [(self.labels[i], float(probs[i])) for i in order]
