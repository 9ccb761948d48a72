"""Training and the model file: arrays and JSON in one document, never a pickle.

The file holds what the fitted scikit-learn pipeline learnt (vocabularies, idf, the
linear models' coefficients) as JSON lists and base64 little-endian arrays, so loading it
runs no code from disk and needs no scikit-learn. Same data, same file, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import NLUSettings
from bot.errors import ConfigError
from bot.nlu.entities import Entity, EntityExtractor
from bot.nlu.features import prepare
from bot.nlu.pipeline import parse_pipeline
from bot.nlu.training_data import TrainingData, load_training_data
from bot.nlu.vectors import Features, FittedTfidf, LinearHead

FORMAT_VERSION = 2


def _pack(array: np.ndarray, dtype: str) -> dict[str, Any]:
    data = np.ascontiguousarray(array, dtype=dtype)
    return {"dtype": dtype, "shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode()}


def _unpack(doc: dict[str, Any]) -> np.ndarray:
    dtype = str(doc["dtype"])
    if dtype not in ("<f4", "<f8"):
        raise ConfigError(f"NLU model array of type {dtype!r}")
    shape = tuple(int(x) for x in doc["shape"])
    return np.frombuffer(base64.b64decode(str(doc["data"])), dtype=dtype).reshape(shape)


def _pack_head(head: LinearHead | None) -> dict[str, Any] | None:
    if head is None:
        return None
    return {"labels": head.labels, "weights": _pack(head.weights, "<f4"),
            "intercept": _pack(head.intercept, "<f8")}


def _unpack_head(doc: dict[str, Any] | None) -> LinearHead | None:
    if doc is None:
        return None
    return LinearHead(labels=[str(x) for x in doc["labels"]], weights=_unpack(doc["weights"]),
                      intercept=_unpack(doc["intercept"]))


@dataclass
class NLUModel:
    features: Features
    intents: LinearHead
    call_failures: LinearHead | None
    data_digest: str

    def row(self, text: str, entities: list[Entity]) -> tuple[np.ndarray, np.ndarray]:
        prepared = prepare(text, entities)
        return self.features.row({"text": prepared.text, "entity_types": prepared.entity_types})

    def save(self, path: Path) -> None:
        doc = {
            "format": FORMAT_VERSION,
            "data_digest": self.data_digest,
            "features": [
                {"column": column, **vectorizer.to_json(),
                 "idf": None if vectorizer.idf is None else _pack(vectorizer.idf, "<f8")}
                for column, vectorizer in self.features.parts
            ],
            "intents": _pack_head(self.intents),
            "call_failures": _pack_head(self.call_failures),
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
        if not isinstance(doc, dict) or doc.get("format") != FORMAT_VERSION:
            found = doc.get("format") if isinstance(doc, dict) else None
            raise ConfigError(f"NLU model {path} has format {found}, expected {FORMAT_VERSION}")
        try:
            parts = [(str(f["column"]), FittedTfidf.from_json(f, None if f["idf"] is None else _unpack(f["idf"])))
                     for f in doc["features"]]
            intents = _unpack_head(doc["intents"])
            call_failures = _unpack_head(doc["call_failures"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"NLU model {path} is malformed: {exc}") from exc
        if intents is None:
            raise ConfigError(f"NLU model {path} has no intent classifier")
        return cls(Features(parts), intents, call_failures, str(doc["data_digest"]))


def data_digest(paths: list[Path], settings: NLUSettings) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    h.update(json.dumps({"pipeline": list(settings.pipeline), "seed": settings.seed,
                         "format": FORMAT_VERSION}, sort_keys=True, default=str).encode())
    return h.hexdigest()


def train(data: TrainingData, settings: NLUSettings, *, digest: str = "") -> NLUModel:
    from bot.nlu import training  # scikit-learn: only when training

    spec = parse_pipeline(settings.pipeline)
    extractor = EntityExtractor(data)
    prepared = [prepare(e.text, extractor.extract(e.text)) for e in data.examples]
    pipeline = training.fit(spec, prepared, [e.intent for e in data.examples], seed=settings.seed)
    call_failures = None
    if spec.call_failure_classifier:
        selected, labels = [], []
        for i, example in enumerate(data.examples):
            values = {s.value for s in example.entities if s.entity == "call_failure"}
            if len(values) == 1:
                selected.append(prepared[i])
                labels.append(values.pop())
        if len(set(labels)) > 1:
            call_failures = training.fit_head(pipeline, selected, labels, spec=spec, seed=settings.seed)
    return NLUModel(training.export_features(pipeline), training.export_classifier(pipeline),
                    call_failures, digest)


def train_from_files(settings: NLUSettings) -> NLUModel:
    paths = [settings.training_data]
    return train(load_training_data(*paths), settings, digest=data_digest(paths, settings))


def load_or_train(settings: NLUSettings) -> tuple[NLUModel, TrainingData]:
    """Load the model file if it matches the training data; otherwise train and save it."""
    data = load_training_data(settings.training_data)
    digest = data_digest([settings.training_data], settings)
    if settings.model_path.exists():
        try:
            model = NLUModel.load(settings.model_path)
        except ConfigError:
            model = None  # an older format: trained again below
        if model is not None and model.data_digest == digest:
            return model, data
    model = train(data, settings, digest=digest)
    model.save(settings.model_path)
    return model, data
