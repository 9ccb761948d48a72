"""Okapi BM25 over KB articles, with error-code folding so "e-05" finds the E05 article."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.knowledge.records import Document
from bot.knowledge.render import render

# The index hands back the very documents it was given (KnowledgeBase gets Articles back).
D = TypeVar("D", bound=Document)

K1 = 1.5
B = 0.75
# A word in the title or a symptom says more about the article than one in its body; weighting
# the term counts (BM25F-style) keeps one index and one length normalisation.
TITLE_WEIGHT = 3
SYMPTOM_WEIGHT = 2
BODY_WEIGHT = 1

# "Error Code# E05", "error code 05", "code #5", "E-05", "E 05", "eo5", "e5" all mean e05. A bare
# "code 10" is left alone: users say "the activation code 10 minutes".
_DASH = r"[-_.\u2010-\u2015]?"
_ERROR_CODE = re.compile(
    rf"\b(?:error\s*(?:code\s*)?#?\s*:?\s*(?:e\s*{_DASH}\s*)?|code\s*#\s*(?:e\s*{_DASH}\s*)?|e\s*{_DASH}\s*)"
    r"(o?[0-9]{1,2})\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = frozenset(
    "a about am an and are as at be but by can could did do does for from get got had has have "
    "hello hi how i if im in is it just me my of on or our please so that the there this to was "
    "we when where which who why will with would you your".split()
)


@dataclass(frozen=True)
class SearchHit(Generic[D]):
    article: D
    score: float


def tokenize(text: str) -> list[str]:
    """Lowercase, drop punctuation and stop words, fold error codes and simple suffixes."""
    folded = _ERROR_CODE.sub(_fold_code, text.lower())
    return [_stem(word) for word in _WORD.findall(folded) if word not in _STOP_WORDS]


def _fold_code(match: re.Match[str]) -> str:
    digits = match.group(1).replace("o", "0")
    return f" e{int(digits):02d} "


def _stem(word: str) -> str:
    # Just enough folding for "pressed"/"press", "expired"/"expires", "calls"/"call".
    if len(word) <= 4 or word[0].isdigit():  # short words and folded codes ("e05") stay as they are
        return word
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


class Bm25Index(Generic[D]):
    """An in-memory BM25 index over a fixed list of articles."""

    def __init__(self, articles: Sequence[D], *, k1: float = K1, b: float = B) -> None:
        self._k1 = k1
        self._b = b
        self._docs = [(article, _weighted_terms(article)) for article in articles]
        self._lengths = [sum(terms.values()) for _, terms in self._docs]
        self._avg_length = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        frequency: Counter[str] = Counter()
        for _, terms in self._docs:
            frequency.update(terms.keys())
        count = len(self._docs)
        # Lucene's form of the Okapi idf: never negative, so a common word cannot lower a score.
        self._idf = {
            term: math.log(1 + (count - n + 0.5) / (n + 0.5)) for term, n in frequency.items()
        }

    def search(self, query: str, *, limit: int = 5) -> list[SearchHit[D]]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        terms = set(tokenize(query))
        if not terms:
            return []
        hits: list[SearchHit[D]] = []
        for (article, doc_terms), length in zip(self._docs, self._lengths, strict=True):
            score = sum(self._term_score(term, doc_terms, length) for term in terms)
            if score > 0:
                hits.append(SearchHit(article=article, score=score))
        hits.sort(key=lambda hit: (-hit.score, hit.article.id))
        return hits[:limit]

    def _term_score(self, term: str, doc_terms: Counter[str], length: int) -> float:
        tf = doc_terms.get(term, 0)
        if not tf:
            return 0.0
        norm = self._k1 * (1 - self._b + self._b * length / self._avg_length)
        return self._idf[term] * tf * (self._k1 + 1) / (tf + norm)


def _weighted_terms(article: Document) -> Counter[str]:
    terms: Counter[str] = Counter()
    fields = ((TITLE_WEIGHT, (article.title,)), (SYMPTOM_WEIGHT, article.symptoms), (BODY_WEIGHT, (article.body,)))
    for weight, texts in fields:
        for text in texts:
            for token in tokenize(text):
                terms[token] += weight
    return terms


def snippet(article: Document, query: str, *, width: int = 160) -> str:
    """The plain-text line of the article that shares most words with the query, shortened."""
    lines = [line.strip() for line in render(article.body, "text").splitlines() if line.strip()]
    wanted = set(tokenize(query))
    best = max(lines, key=lambda line: len(wanted & set(tokenize(line))), default="")
    if len(best) <= width:
        return best
    return best[: width - 1].rsplit(" ", 1)[0] + "…"
