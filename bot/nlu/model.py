"""Training and the model file: one JSON document, byte-for-byte reproducible."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.config import NLUSettings
from bot.errors import ConfigError
from bot.nlu.classifier import SparseRows, predict_proba, train_softmax
from bot.nlu.entities import ENTITY_TYPES as CANONICAL_ENTITY_TYPES
from bot.nlu.entities import EntityExtractor
from bot.nlu.featurizer import TfidfFeaturizer, featurize, normalise
from bot.nlu.training_data import TrainingData, load_training_data

FORMAT_VERSION = 1


@dataclass
class Head:
    """One softmax head: intents, or the call_failure value of a call_problem message."""

    labels: list[str]
    weights: np.ndarray

    def rank(self, indices: list[int], values: list[float]) -> list[tuple[str, float]]:
        probs = predict_proba(self.weights, indices, values)
        order = np.argsort(-probs, kind="stable")
        return [(self.labels[i], float(probs[i])) for i in order]


@dataclass
class NLUModel:
    featurizer: TfidfFeaturizer
    intents: Head
    call_failures: Head | None
    data_digest: str

    def save(self, path: Path) -> None:
        def pack(head: Head | None) -> dict[str, object] | None:
            if head is None:
                return None
            return {"labels": head.labels, "shape": list(head.weights.shape),
                    "weights": base64.b64encode(head.weights.astype("<f4").tobytes()).decode()}

        doc = {
            "format": FORMAT_VERSION,
            "data_digest": self.data_digest,
            "word_ngrams": list(self.featurizer.word_ngrams),
            "char_ngrams": list(self.featurizer.char_ngrams),
            "vocabulary": sorted(self.featurizer.vocabulary, key=self.featurizer.vocabulary.__getitem__),
            "idf": [round(x, 7) for x in self.featurizer.idf],
            "intents": pack(self.intents),
            "call_failures": pack(self.call_failures),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "NLUModel":
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read NLU model {path}: {exc}") from exc
        if doc.get("format") != FORMAT_VERSION:
            raise ConfigError(f"NLU model {path} has format {doc.get('format')}, expected {FORMAT_VERSION}")

        def unpack(d: dict[str, object] | None) -> Head | None:
            if d is None:
                return None
            raw = base64.b64decode(str(d["weights"]))
            shape = tuple(int(x) for x in d["shape"])  # type: ignore[attr-defined]
            return Head(list(d["labels"]), np.frombuffer(raw, dtype="<f4").reshape(shape))  # type: ignore[call-overload]

        featurizer = TfidfFeaturizer(word_ngrams=tuple(doc["word_ngrams"]), char_ngrams=tuple(doc["char_ngrams"]))
        featurizer.vocabulary = {g: i + 1 for i, g in enumerate(doc["vocabulary"])}
        featurizer.idf = [float(x) for x in doc["idf"]]
        intents = unpack(doc["intents"])
        assert intents is not None
        return cls(featurizer, intents, unpack(doc["call_failures"]), str(doc["data_digest"]))


def data_digest(paths: list[Path], settings: NLUSettings) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    h.update(repr((settings.word_ngrams, settings.char_ngrams, settings.epochs,
                   settings.learning_rate, settings.l2, settings.seed, FORMAT_VERSION)).encode())
    return h.hexdigest()


def train(data: TrainingData, settings: NLUSettings, *, digest: str = "") -> NLUModel:
    extractor = EntityExtractor(data)
    featurizer = TfidfFeaturizer(word_ngrams=settings.word_ngrams, char_ngrams=settings.char_ngrams)
    found = [extractor.extract(e.text) for e in data.examples]
    featurizer.fit([normalise(e.text, ents) for e, ents in zip(data.examples, found)],
                   entity_types=CANONICAL_ENTITY_TYPES)
    n_features = len(featurizer.vocabulary) + 1
    rows = [featurize(featurizer, e.text, ents) for e, ents in zip(data.examples, found)]

    def fit_head(selected: list[int], labels: list[str]) -> Head:
        names = sorted(set(labels))
        y = np.array([names.index(label) for label in labels], dtype=np.int64)
        weights = train_softmax(
            SparseRows.from_rows([rows[i] for i in selected]), y,
            n_features=n_features, n_classes=len(names), epochs=settings.epochs,
            learning_rate=settings.learning_rate, l2=settings.l2, seed=settings.seed,
        )
        return Head(names, weights)

    intents = fit_head(list(range(len(rows))), [e.intent for e in data.examples])
    failure_idx, failure_labels = [], []
    for i, example in enumerate(data.examples):
        values = {s.value for s in example.entities if s.entity == "call_failure"}
        if len(values) == 1:
            failure_idx.append(i)
            failure_labels.append(values.pop())
    call_failures = fit_head(failure_idx, failure_labels) if len(set(failure_labels)) > 1 else None
    return NLUModel(featurizer, intents, call_failures, digest)


def train_from_files(settings: NLUSettings) -> NLUModel:
    paths = [settings.training_data]
    return train(load_training_data(*paths), settings, digest=data_digest(paths, settings))


def load_or_train(settings: NLUSettings) -> tuple[NLUModel, TrainingData]:
    """Load the model file if it matches the training data; otherwise train and save it."""
    data = load_training_data(settings.training_data)
    digest = data_digest([settings.training_data], settings)
    if settings.model_path.exists():
        model = NLUModel.load(settings.model_path)
        if model.data_digest == digest:
            return model, data
    model = train(data, settings, digest=digest)
    model.save(settings.model_path)
    return model, data
