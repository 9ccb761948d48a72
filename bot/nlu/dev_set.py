"""The public development set (../shared/eval/nlu_test.yml): read it and score against it.

Its format is not Rasa's: a top-level `examples:` list of {text, intent, entities,
optional_entities}, entity values without spans. It is only ever measured, never trained on.
Scoring follows its runner (shared/eval/run_eval.py), so the figures here and there agree:
values compared after the runner's normalisation, an optional value neither rewarded nor
penalised, and a false positive counted only for an entity type annotated in that message.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from bot.errors import ConfigError

ENTITY_TYPES = ("error_code", "call_failure", "phone_number", "email", "npi", "tracking_number",
                "mfa_method")


@dataclass(frozen=True)
class DevExample:
    text: str
    intent: str
    entities: frozenset[tuple[str, str]]
    optional: frozenset[tuple[str, str]]


def norm_entity(entity: str, value: object) -> str:
    """The runner's normalisation: digits for phones and NPIs, letters and digits for codes."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True)
    text = str(value).strip()
    if entity == "phone_number":
        digits = re.sub(r"\D", "", text)
        return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
    if entity == "npi":
        return re.sub(r"\D", "", text)
    if entity in ("error_code", "tracking_number"):
        return re.sub(r"[^0-9A-Za-z]", "", text).upper()
    if entity == "email":
        return text.lower().rstrip(".")
    return text.lower()


def _values(mapping: Any) -> frozenset[tuple[str, str]]:
    out = set()
    for entity, value in (mapping or {}).items():
        for v in value if isinstance(value, list) else [value]:
            out.add((str(entity), norm_entity(str(entity), v)))
    return frozenset(out)


def load_dev_set(path: Path) -> list[DevExample]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the dev set {path}: {exc}") from exc
    items = doc.get("examples") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"{path}: expected a top-level 'examples' list")
    return [DevExample(text=str(i["text"]), intent=str(i["intent"]), entities=_values(i.get("entities")),
                       optional=_values(i.get("optional_entities")))
            for i in items if isinstance(i, dict) and "text" in i and "intent" in i]


@dataclass(frozen=True)
class DevScore:
    examples: int
    accuracy: float
    out_of_scope_found: int
    out_of_scope_total: int
    entity_precision: float
    entity_recall: float
    entity_f1: float
    entity_counts: dict[str, dict[str, int]]  # per type: tp, fn, fp
    misclassified: list[dict[str, Any]]
    entity_errors: list[dict[str, Any]]


def score_dev_set(examples: Sequence[DevExample], parses: Iterable[dict[str, Any]]) -> DevScore:
    counts: dict[str, Counter[str]] = {}
    correct = oos_found = 0
    misclassified: list[dict[str, Any]] = []
    entity_errors: list[dict[str, Any]] = []
    for example, parse in zip(examples, parses, strict=True):
        predicted = str(parse["intent"]["name"])
        correct += predicted == example.intent
        oos_found += example.intent == "out_of_scope" and predicted == "out_of_scope"
        if predicted != example.intent:
            misclassified.append({"text": example.text, "gold": example.intent, "predicted": predicted,
                                  "confidence": parse["intent"]["confidence"]})
        found = {(str(e["entity"]), norm_entity(str(e["entity"]), e["value"]))
                 for e in parse["entities"] if e["entity"] in ENTITY_TYPES}
        annotated = {t for t, _ in example.entities | example.optional}
        missed = example.entities - found
        extra = {(t, v) for t, v in found - example.entities - example.optional if t in annotated}
        for t, _ in example.entities & found:
            counts.setdefault(t, Counter())["tp"] += 1
        for t, _ in missed:
            counts.setdefault(t, Counter())["fn"] += 1
        for t, _ in extra:
            counts.setdefault(t, Counter())["fp"] += 1
        if missed or extra:
            entity_errors.append({"text": example.text, "missed": sorted(missed), "extra": sorted(extra)})
    tp, fn, fp = (sum(c[k] for c in counts.values()) for k in ("tp", "fn", "fp"))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    n = len(examples)
    return DevScore(
        examples=n, accuracy=correct / n if n else 0.0, out_of_scope_found=oos_found,
        out_of_scope_total=sum(e.intent == "out_of_scope" for e in examples),
        entity_precision=precision, entity_recall=recall,
        entity_f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        entity_counts={t: dict(c) for t, c in sorted(counts.items())},
        misclassified=misclassified, entity_errors=entity_errors,
    )
