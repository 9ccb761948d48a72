"""The numpy serving path computes what the fitted scikit-learn pipeline computes.

Serving applies the exported vocabularies, idf and coefficients without scikit-learn
(bot/nlu/vectors.py); these tests fit the real pipeline and compare rows and
probabilities on every training sentence and on arbitrary text.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.pipeline import Pipeline

from bot.config import Settings
from bot.nlu import training
from bot.nlu.entities import EntityExtractor
from bot.nlu.features import Prepared, prepare
from bot.nlu.model import NLUModel, train
from bot.nlu.pipeline import parse_pipeline
from bot.nlu.training_data import load_training_data
from bot.nlu.vectors import Features, LinearHead

SETTINGS = Settings.load(env={})
DATA = load_training_data(SETTINGS.nlu.training_data)
EXTRACTOR = EntityExtractor(DATA)
PREPARED = [prepare(e.text, EXTRACTOR.extract(e.text)) for e in DATA.examples]
LABELS = [e.intent for e in DATA.examples]
# Every analyzer the serving code knows, and the entity-type column.
ALL_COMPONENTS = (
    {"name": "TfidfVectorizer", "analyzer": "word", "ngram_range": [1, 3], "sublinear_tf": True, "min_df": 2},
    {"name": "TfidfVectorizer", "analyzer": "char_wb", "ngram_range": [1, 5]},
    {"name": "TfidfVectorizer", "analyzer": "char", "ngram_range": [2, 3], "binary": True, "norm": "l1"},
    {"name": "EntityTypeFeatures"},
    {"name": "LogisticRegression", "C": 5, "solver": "saga", "tol": 0.001},
)


def _fit(steps: tuple[dict[str, object], ...]) -> tuple[Pipeline, Features, LinearHead]:
    pipeline = training.fit(parse_pipeline(steps), PREPARED, LABELS, seed=1)
    return pipeline, training.export_features(pipeline), training.export_classifier(pipeline)


@pytest.fixture(scope="module", params=["configured", "every_analyzer"])
def fitted(request: pytest.FixtureRequest) -> tuple[Pipeline, Features, LinearHead]:
    steps = SETTINGS.nlu.pipeline if request.param == "configured" else ALL_COMPONENTS
    return _fit(tuple(steps))


def _compare(fitted: tuple[Pipeline, Features, LinearHead], prepared: list[Prepared]) -> None:
    pipeline, features, head = fitted
    matrix = training.as_matrix(prepared)
    expected_rows = pipeline.named_steps["features"].transform(matrix).toarray()
    expected_proba = pipeline.predict_proba(matrix)
    for i, p in enumerate(prepared):
        idx, val = features.row({"text": p.text, "entity_types": p.entity_types})
        row = np.zeros(features.size)
        np.add.at(row, idx, val)
        np.testing.assert_allclose(row, expected_rows[i], rtol=0, atol=1e-9)
        np.testing.assert_allclose(head.proba(idx, val), expected_proba[i], rtol=0, atol=1e-5)


def test_rows_and_probabilities_match_scikit_learn_on_the_training_data(
        fitted: tuple[Pipeline, Features, LinearHead]) -> None:
    _compare(fitted, PREPARED)


def test_rows_and_probabilities_match_scikit_learn_on_any_text(
        fitted: tuple[Pipeline, Features, LinearHead]) -> None:
    @settings(max_examples=60, deadline=None)
    @given(st.text(max_size=120), st.sampled_from(["", "error_code", "email npi"]))
    def check(text: str, types: str) -> None:
        _compare(fitted, [prepare(text), Prepared(text=prepare(text).text, entity_types=types)])

    check()


def test_the_model_file_is_json_and_loads_to_the_same_answers(tmp_path: Path) -> None:
    model = train(DATA, SETTINGS.nlu, digest="d")
    path = tmp_path / "nlu.json"
    model.save(path)
    doc = json.loads(path.read_text(encoding="utf-8"))  # plain JSON: no code runs on load
    assert doc["format"] == 2 and doc["intents"]["weights"]["dtype"] == "<f4"
    loaded = NLUModel.load(path)
    for text in ("I got error E05", "the call hung up", "what's the weather"):
        entities = EXTRACTOR.extract(text)
        assert loaded.intents.rank(*loaded.row(text, entities)) == model.intents.rank(*model.row(text, entities))


def test_a_two_class_head_serves_scikit_learn_probabilities() -> None:
    keep = [i for i, label in enumerate(LABELS) if label in ("greet", "goodbye")]
    spec = parse_pipeline(SETTINGS.nlu.pipeline)
    prepared = [PREPARED[i] for i in keep]
    pipeline = training.fit(spec, prepared, [LABELS[i] for i in keep], seed=1)
    _compare((pipeline, training.export_features(pipeline), training.export_classifier(pipeline)), prepared)


def test_options_the_server_cannot_reproduce_are_refused() -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="unsupported options"):
        parse_pipeline([{"name": "TfidfVectorizer", "stop_words": "english"},
                        {"name": "LogisticRegression"}])
    with pytest.raises(ConfigError, match="unknown component"):
        parse_pipeline([{"name": "DIETClassifier"}])
    unchanged = dataclasses.replace(SETTINGS.nlu)
    assert parse_pipeline(unchanged.pipeline).vectorizers
