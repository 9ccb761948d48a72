"""BM25 search (bm25s) over KB articles and over their passages.

Two indexes share one tokenizer: articles for "which article fits this description?"
(the /kb/search endpoint, agent assist) and passages for "which paragraph answers this
question?" (follow-up questions in a conversation). The index takes plain records
(`Document`), so it knows nothing of the Article type that is built from it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer

# "Error Code# E05", "error code 05", "code #5", "E-05", "E 05", "eo5", "e5" all mean e05. A bare
# "code 10" is left alone: users say "the activation code 10 minutes".
_DASH = r"[-_.\u2010-\u2015]?"
_ERROR_CODE = re.compile(
    rf"\b(?:error\s*(?:code\s*)?#?\s*:?\s*(?:e\s*{_DASH}\s*)?|code\s*#\s*(?:e\s*{_DASH}\s*)?|e\s*{_DASH}\s*)"
    r"(o?[0-9]{1,2})\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"#|[a-z0-9]+")
_STOP_WORDS = frozenset(
    "a about am an and are as at be but by can could did do does for from get got had has have "
    "hello hi how i if im in is it just me my of on or our please so that the there this to was "
    "we when which who why will with would you your "
    # question words and fillers: they say a message is a question, not what it is about
    "what whats s t d ll m re ve don doesn didn isn wasn won cant also again ok okay yes really "
    "guy guys sir maam mine one some any need want know tell good great fine thanks thank hello hi".split()
)
_STEMMER = Stemmer.Stemmer("english")


@dataclass(frozen=True)
class Document:
    """What the index needs of a searchable text: its key and weighted fields."""

    key: str
    fields: tuple[tuple[int, str], ...]  # (weight, text): a title counts more than a body


@dataclass(frozen=True)
class Scored:
    key: str
    score: float


def tokenize(text: str) -> list[str]:
    """Lowercase, fold error codes, drop stop words, Snowball-stem ("pressed" -> "press")."""
    folded = _ERROR_CODE.sub(_fold_code, text.lower())
    words = [word for word in _WORD.findall(folded) if word not in _STOP_WORDS]
    return [w if w[0].isdigit() or w == "#" else s for w, s in zip(words, _STEMMER.stemWords(words))]


def _fold_code(match: re.Match[str]) -> str:
    digits = match.group(1).replace("o", "0")
    return f" e{int(digits):02d} "


class Bm25Index:
    """Okapi BM25 (Lucene's variant, via bm25s) over a fixed list of documents."""

    def __init__(self, documents: Sequence[Document]) -> None:
        self._keys = [document.key for document in documents]
        # Field weights repeat a field's tokens (BM25F-style term weighting in one index).
        corpus = [[token for weight, text in document.fields for token in tokenize(text) * weight]
                  for document in documents]
        self._retriever = bm25s.BM25(method="lucene")
        self._empty = not any(corpus)  # bm25s cannot index a corpus without a single word
        if not self._empty:
            self._retriever.index(corpus, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """One score a document, in the order given; zeros when no query word is known."""
        terms = sorted(set(tokenize(query)))
        if not terms or self._empty:
            return np.zeros(len(self._keys), dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms), dtype=np.float32)

    def search(self, query: str, *, limit: int = 5) -> list[Scored]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        scores = self.scores(query)
        order = sorted((i for i in range(len(self._keys)) if scores[i] > 0),
                       key=lambda i: (-float(scores[i]), self._keys[i]))
        return [Scored(key=self._keys[i], score=float(scores[i])) for i in order[:limit]]

    @property
    def keys(self) -> list[str]:
        return list(self._keys)
