"""NLU evaluation in the spirit of `rasa test nlu`: stratified cross-validation, a held-out
set, per-intent and per-entity scores, and a JSON + Markdown report."""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

from bot.config import NLUSettings, Settings
from bot.nlu.dev_set import DevScore, load_dev_set, score_dev_set
from bot.nlu.interpreter import Interpreter
from bot.nlu.model import NLUModel, train
from bot.nlu.training_data import Example, TrainingData, load_training_data

# The entities scored; others (e.g. from button payloads) are ignored.
SCORED_ENTITIES = ("error_code", "call_failure", "mfa_method", "npi", "phone_number", "email",
                   "tracking_number")
HOLDOUT_ACCURACY_BAR = 0.95
OUT_OF_SCOPE_RECALL_BAR = 0.95  # issue 17
# issue 17's goals on the public dev set (reported, not part of `passed`: the file may be absent)
DEV_ACCURACY_GOAL = 0.97
DEV_ENTITY_F1_GOAL = 0.95
DEV_OUT_OF_SCOPE_GOAL = 9
_REPORT_ROWS = 25  # confusions and misclassified examples shown in the Markdown report


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    support: int  # gold count
    predicted: int = field(default=0, compare=False)  # for the micro average


@dataclass(frozen=True)
class Confusion:
    gold: str
    predicted: str
    count: int


@dataclass(frozen=True)
class Misclassified:
    text: str
    gold: str
    predicted: str
    confidence: float


@dataclass(frozen=True)
class Prediction:
    text: str
    gold: str
    predicted: str
    confidence: float
    gold_entities: tuple[tuple[str, str], ...] = ()
    predicted_entities: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EvaluationResult:
    accuracy: float
    intents: dict[str, Score]
    macro_f1: float
    weighted_f1: float
    confusions: list[Confusion]
    misclassified: list[Misclassified]
    entities: dict[str, Score]
    fold_accuracies: list[float] = field(default_factory=list)

    @property
    def examples(self) -> int:
        return sum(s.support for s in self.intents.values())

    def to_dict(self) -> dict[str, Any]:
        return {"examples": self.examples, **asdict(self)}


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _score(tp: int, fp: int, fn: int) -> Score:
    # No predictions (or no gold) scores 0, as scikit-learn's zero_division=0 does.
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return Score(precision, recall, _f1(precision, recall), tp + fn, tp + fp)


def score_labels(*, gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Score]:
    """Per-label precision/recall/F1 for single-label predictions (labels from either side)."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted must have the same length")
    pairs = Counter(zip(gold, predicted))
    gold_counts, pred_counts = Counter(gold), Counter(predicted)
    return {label: _score(pairs[(label, label)], pred_counts[label] - pairs[(label, label)],
                          gold_counts[label] - pairs[(label, label)])
            for label in sorted(set(gold) | set(predicted))}


def entity_key(entity: str, value: object) -> tuple[str, str]:
    """What counts as the same value: phones by digits, codes and tracking numbers by case."""
    text = str(value).strip()
    if entity == "phone_number":
        text = re.sub(r"\D", "", text)
        if len(text) == 11 and text.startswith("1"):  # +1 country code vs a bare US number
            text = text[1:]
    elif entity in ("error_code", "tracking_number"):
        text = text.casefold()
    return entity, text


def score_entities(*, gold: Sequence[Iterable[tuple[str, str]]],
                   predicted: Sequence[Iterable[tuple[str, str]]]) -> dict[str, Score]:
    """Per-entity scores by (entity, value) match within each example.

    Values are compared as a set per example: "E05: User Not Found" names E05 twice but
    fills one slot, so the second mention is neither a hit nor a false positive.
    """
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold_one, pred_one in zip(gold, predicted, strict=True):
        g = {entity_key(e, v) for e, v in gold_one if e in SCORED_ENTITIES}
        p = {entity_key(e, v) for e, v in pred_one if e in SCORED_ENTITIES}
        tp.update(entity for entity, _ in g & p)
        fp.update(entity for entity, _ in p - g)
        fn.update(entity for entity, _ in g - p)
    seen = set(tp) | set(fp) | set(fn)
    return {e: _score(tp[e], fp[e], fn[e]) for e in SCORED_ENTITIES if e in seen}


def micro_f1(scores: dict[str, Score]) -> float:
    """Entity F1 over all types together (every value counts once)."""
    tp = sum(round(s.recall * s.support) for s in scores.values())
    gold = sum(s.support for s in scores.values())
    predicted = sum(s.predicted for s in scores.values())
    return _f1(tp / predicted if predicted else 0.0, tp / gold if gold else 0.0)


def summarise(predictions: Sequence[Prediction]) -> EvaluationResult:
    gold = [p.gold for p in predictions]
    predicted = [p.predicted for p in predictions]
    intents = score_labels(gold=gold, predicted=predicted)
    total = len(predictions)
    confusions = Counter((p.gold, p.predicted) for p in predictions if p.gold != p.predicted)
    wrong = [p for p in predictions if p.gold != p.predicted]
    return EvaluationResult(
        accuracy=(total - len(wrong)) / total if total else 0.0,
        intents=intents,
        macro_f1=sum(s.f1 for s in intents.values()) / len(intents) if intents else 0.0,
        weighted_f1=sum(s.f1 * s.support for s in intents.values()) / total if total else 0.0,
        confusions=[Confusion(g, p, n) for (g, p), n in
                    sorted(confusions.items(), key=lambda item: (-item[1], item[0]))],
        misclassified=[Misclassified(p.text, p.gold, p.predicted, p.confidence) for p in
                       sorted(wrong, key=lambda p: (-p.confidence, p.gold, p.text))],
        entities=score_entities(gold=[p.gold_entities for p in predictions],
                                predicted=[p.predicted_entities for p in predictions]),
    )


def predict(interpreter: Interpreter, examples: Iterable[Example]) -> list[Prediction]:
    out = []
    for example in examples:
        parsed = interpreter.parse(example.text)
        out.append(Prediction(
            text=example.text, gold=example.intent, predicted=str(parsed["intent"]["name"]),
            confidence=float(parsed["intent"]["confidence"]),
            gold_entities=tuple((s.entity, s.value) for s in example.entities),
            predicted_entities=tuple((str(e["entity"]), str(e["value"])) for e in parsed["entities"]),
        ))
    return out


def stratified_folds(labels: Sequence[str], *, folds: int, seed: int) -> list[list[int]]:
    """Indices split into `folds` parts, each intent spread evenly; same seed, same split."""
    if not 2 <= folds <= len(labels):
        raise ValueError(f"folds must be between 2 and the number of examples, got {folds}")
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    parts: list[list[int]] = [[] for _ in range(folds)]
    offset = 0  # carried across intents so the folds stay within one example of each other
    for label in sorted(by_label):
        indices = by_label[label]
        rng.shuffle(indices)
        for j, index in enumerate(indices):
            parts[(offset + j) % folds].append(index)
        offset += len(indices)
    return [sorted(p) for p in parts]


def _subset(data: TrainingData, examples: list[Example]) -> TrainingData:
    return TrainingData(examples=examples, synonyms=dict(data.synonyms),
                        regexes={k: list(v) for k, v in data.regexes.items()},
                        lookups={k: list(v) for k, v in data.lookups.items()})


def cross_validate(data: TrainingData, settings: NLUSettings, *, folds: int = 5,
                   seed: int = 42) -> EvaluationResult:
    """Train on k-1 folds, predict the held-out one; scores pool every held-out prediction."""
    predictions: list[Prediction] = []
    fold_accuracies: list[float] = []
    for test_idx in stratified_folds([e.intent for e in data.examples], folds=folds, seed=seed):
        held_out = set(test_idx)
        fold_data = _subset(data, [e for i, e in enumerate(data.examples) if i not in held_out])
        interpreter = Interpreter(train(fold_data, settings), fold_data)
        fold = predict(interpreter, (data.examples[i] for i in test_idx))
        fold_accuracies.append(sum(p.gold == p.predicted for p in fold) / len(fold))
        predictions.extend(fold)
    return replace(summarise(predictions), fold_accuracies=fold_accuracies)


def evaluate_holdout(model: NLUModel, data: TrainingData, holdout: TrainingData) -> EvaluationResult:
    return summarise(predict(Interpreter(model, data), holdout.examples))


def run_nlu_test(settings: Settings, *, holdout_path: Path, out_dir: Path, folds: int = 5,
                 dev_set_path: Path | None = None) -> dict[str, Any]:
    """Train on the full data, cross-validate, score the holdout and (when it is there) the
    public dev set, write both reports. The dev set is measured, never trained on."""
    data = load_training_data(settings.nlu.training_data)
    model = train(data, settings.nlu)
    holdout = evaluate_holdout(model, data, load_training_data(holdout_path))
    cv = cross_validate(data, settings.nlu, folds=folds, seed=settings.nlu.seed)
    oos = holdout.intents.get("out_of_scope")
    summary: dict[str, Any] = {
        "holdout_accuracy": holdout.accuracy,
        "cv_accuracy": cv.accuracy,
        "out_of_scope_recall": oos.recall if oos else 0.0,
        "holdout_entity_f1": micro_f1(holdout.entities),
        "cv_entity_f1": micro_f1(cv.entities),
    }
    summary["passed"] = (summary["holdout_accuracy"] >= HOLDOUT_ACCURACY_BAR
                         and summary["out_of_scope_recall"] >= OUT_OF_SCOPE_RECALL_BAR)
    dev: DevScore | None = None
    if dev_set_path is not None and dev_set_path.is_file():
        examples = load_dev_set(dev_set_path)
        interpreter = Interpreter(model, data)
        dev = score_dev_set(examples, (interpreter.parse(e.text) for e in examples))
        summary["dev_set"] = {
            "accuracy": dev.accuracy, "entity_f1": dev.entity_f1,
            "out_of_scope_found": f"{dev.out_of_scope_found}/{dev.out_of_scope_total}",
            "goals_met": (dev.accuracy >= DEV_ACCURACY_GOAL and dev.entity_f1 >= DEV_ENTITY_F1_GOAL
                          and dev.out_of_scope_found >= DEV_OUT_OF_SCOPE_GOAL),
        }
    else:
        summary["dev_set"] = {"skipped": f"not found: {dev_set_path}" if dev_set_path else "not asked for"}
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {"summary": summary, "folds": folds, "training_data": str(settings.nlu.training_data),
              "holdout_data": str(holdout_path), "holdout": holdout.to_dict(),
              "cross_validation": cv.to_dict(),
              "dev_set_data": str(dev_set_path) if dev else None, "dev_set": asdict(dev) if dev else None}
    (out_dir / "nlu_report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out_dir / "nlu_report.md").write_text(
        render_markdown(summary=summary, holdout=holdout, cv=cv, folds=folds, dev=dev), encoding="utf-8")
    return summary


def _cell(value: object) -> str:
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines if len(lines) > 2 else lines + ["| " + " | ".join("—" for _ in header) + " |"]


def _section(title: str, result: EvaluationResult) -> list[str]:
    lines = [f"## {title}", "", f"{result.examples} examples, accuracy {result.accuracy:.3f}, "
             f"macro F1 {result.macro_f1:.3f}, weighted F1 {result.weighted_f1:.3f}.", ""]
    if result.fold_accuracies:
        lines += ["Per-fold accuracy: " + ", ".join(f"{a:.3f}" for a in result.fold_accuracies), ""]
    lines += ["### Intents", ""]
    lines += _table(["intent", "support", "precision", "recall", "F1"],
                    [(n, s.support, s.precision, s.recall, s.f1) for n, s in result.intents.items()])
    lines += ["", "### Top confusions", ""]
    lines += _table(["gold", "predicted", "count"],
                    [(c.gold, c.predicted, c.count) for c in result.confusions[:_REPORT_ROWS]])
    shown = result.misclassified[:_REPORT_ROWS]
    lines += ["", f"### Misclassified examples ({len(shown)} of {len(result.misclassified)}, "
              "most confident first)", ""]
    lines += _table(["text", "gold", "predicted", "confidence"],
                    [(m.text, m.gold, m.predicted, m.confidence) for m in shown])
    lines += ["", "### Entities", ""]
    lines += _table(["entity", "support", "precision", "recall", "F1"],
                    [(n, s.support, s.precision, s.recall, s.f1) for n, s in result.entities.items()])
    return lines + [""]


def _dev_section(dev: DevScore) -> list[str]:
    lines = ["## Public dev set (measured, never trained on)", "",
             f"{dev.examples} examples, intent accuracy {dev.accuracy:.3f} (goal ≥ {DEV_ACCURACY_GOAL:.2f}), "
             f"out_of_scope found {dev.out_of_scope_found} of {dev.out_of_scope_total} "
             f"(goal ≥ {DEV_OUT_OF_SCOPE_GOAL}), entity F1 {dev.entity_f1:.3f} (goal ≥ {DEV_ENTITY_F1_GOAL:.2f}; "
             f"precision {dev.entity_precision:.3f}, recall {dev.entity_recall:.3f}, scored as its runner does).", ""]
    lines += _table(["entity", "found", "missed", "false alarms"],
                    [(t, c.get("tp", 0), c.get("fn", 0), c.get("fp", 0)) for t, c in dev.entity_counts.items()])
    lines += ["", "### Misclassified", ""]
    lines += _table(["text", "gold", "predicted", "confidence"],
                    [(m["text"], m["gold"], m["predicted"], m["confidence"]) for m in dev.misclassified[:_REPORT_ROWS]])
    lines += ["", "### Entity errors", ""]
    lines += _table(["text", "missed", "extra"],
                    [(e["text"], e["missed"], e["extra"]) for e in dev.entity_errors[:_REPORT_ROWS]])
    return lines + [""]


def render_markdown(*, summary: dict[str, Any], holdout: EvaluationResult, cv: EvaluationResult,
                    folds: int, dev: DevScore | None = None) -> str:
    verdict = "PASSED" if summary["passed"] else "FAILED"
    lines = ["# NLU test report", "", f"**{verdict}** — bars: holdout accuracy ≥ "
             f"{HOLDOUT_ACCURACY_BAR:.2f}, out_of_scope recall (holdout) ≥ {OUT_OF_SCOPE_RECALL_BAR:.2f}.", ""]
    dev_cells = ((dev.examples, dev.accuracy, "—", "—", f"{dev.out_of_scope_found}/{dev.out_of_scope_total}",
                  dev.entity_f1) if dev else ("—",) * 6)
    lines += _table(["metric", "holdout", f"cross-validation ({folds} folds)", "public dev set"], [
        ("examples", holdout.examples, cv.examples, dev_cells[0]),
        ("intent accuracy", holdout.accuracy, cv.accuracy, dev_cells[1]),
        ("macro F1", holdout.macro_f1, cv.macro_f1, dev_cells[2]),
        ("weighted F1", holdout.weighted_f1, cv.weighted_f1, dev_cells[3]),
        ("out_of_scope recall", summary["out_of_scope_recall"],
         cv.intents["out_of_scope"].recall if "out_of_scope" in cv.intents else 0.0, dev_cells[4]),
        ("entity F1 (all types)", micro_f1(holdout.entities), micro_f1(cv.entities), dev_cells[5]),
    ])
    if dev is None:
        lines += ["", f"Public dev set: {summary['dev_set'].get('skipped', 'skipped')}."]
    lines += [""] + _section("Holdout", holdout) + _section(f"Cross-validation ({folds} folds)", cv)
    if dev is not None:
        lines += _dev_section(dev)
    return "\n".join(lines)
