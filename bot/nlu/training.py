"""Fitting the intent model with scikit-learn, and exporting it for numpy serving.

Imported only by `helpdesk train` / `helpdesk test nlu` (and by a server that finds no
up-to-date model file): scikit-learn stays off the serving path (see bot/nlu/vectors.py).

The pipeline is scikit-learn's own: a ColumnTransformer with one TfidfVectorizer per
configured vectorizer over the prepared text, plus a binary CountVectorizer over the
entity types the extractors found, into a LogisticRegression.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from bot.nlu.features import Prepared
from bot.nlu.pipeline import PipelineSpec
from bot.nlu.vectors import Features, FittedTfidf, LinearHead

_DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"


def _split(text: str) -> list[str]:
    return text.split()


def build_pipeline(spec: PipelineSpec, *, seed: int) -> Pipeline:
    transformers: list[tuple[str, Any, int]] = [
        (f"tfidf{i}", TfidfVectorizer(dtype=np.float64, **options), 0)
        for i, options in enumerate(spec.vectorizers)
    ]
    if spec.entity_type_features:
        transformers.append(("entity_types", CountVectorizer(analyzer=_split, binary=True, lowercase=False), 1))
    options = {"max_iter": 2000, **spec.classifier}
    return Pipeline([
        ("features", ColumnTransformer(transformers, sparse_threshold=1.0)),
        ("classifier", LogisticRegression(random_state=seed, **options)),
    ])


def as_matrix(prepared: Sequence[Prepared]) -> np.ndarray:
    matrix = np.empty((len(prepared), 2), dtype=object)
    for i, p in enumerate(prepared):
        matrix[i, 0] = p.text
        matrix[i, 1] = p.entity_types
    return matrix


def fit(spec: PipelineSpec, prepared: Sequence[Prepared], labels: Sequence[str], *,
        seed: int) -> Pipeline:
    pipeline = build_pipeline(spec, seed=seed)
    pipeline.fit(as_matrix(prepared), np.asarray(labels))
    return pipeline


def fit_head(pipeline: Pipeline, prepared: Sequence[Prepared], labels: Sequence[str], *,
             spec: PipelineSpec, seed: int) -> LinearHead:
    """A second linear model on the same fitted features (the call_failure value)."""
    features = pipeline.named_steps["features"].transform(as_matrix(prepared))
    options = {"max_iter": 2000, **spec.classifier}
    model = LogisticRegression(random_state=seed, **options).fit(features, np.asarray(labels))
    return _head(model)


def export_features(pipeline: Pipeline) -> Features:
    parts: list[tuple[str, FittedTfidf]] = []
    for name, vectorizer, column in pipeline.named_steps["features"].transformers_:
        if name == "remainder":
            continue
        if isinstance(vectorizer, TfidfVectorizer):
            fitted = FittedTfidf(
                analyzer=vectorizer.analyzer, ngram_range=tuple(vectorizer.ngram_range),
                token_pattern=vectorizer.token_pattern or _DEFAULT_TOKEN_PATTERN,
                lowercase=bool(vectorizer.lowercase), binary=bool(vectorizer.binary),
                sublinear_tf=bool(vectorizer.sublinear_tf), norm=vectorizer.norm,
                vocabulary={str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
                idf=np.asarray(vectorizer.idf_, dtype=np.float64) if vectorizer.use_idf else None,
            )
        else:
            fitted = FittedTfidf(
                analyzer="split", ngram_range=(1, 1), token_pattern=_DEFAULT_TOKEN_PATTERN,
                lowercase=False, binary=True, sublinear_tf=False, norm=None,
                vocabulary={str(k): int(v) for k, v in vectorizer.vocabulary_.items()}, idf=None,
            )
        parts.append(("text" if column == 0 else "entity_types", fitted))
    return Features(parts)


def _head(model: LogisticRegression) -> LinearHead:
    return LinearHead(labels=[str(c) for c in model.classes_],
                      weights=np.ascontiguousarray(model.coef_.T, dtype=np.float32),
                      intercept=np.asarray(model.intercept_, dtype=np.float64))


def export_classifier(pipeline: Pipeline) -> LinearHead:
    return _head(pipeline.named_steps["classifier"])
