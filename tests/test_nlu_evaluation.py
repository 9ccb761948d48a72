from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.config import Settings
from bot.nlu.dev_set import DevExample, score_dev_set
from bot.nlu.evaluation import (
    Confusion,
    Prediction,
    Score,
    run_nlu_test,
    score_entities,
    score_labels,
    stratified_folds,
    summarise,
)

HOLDOUT = Path(__file__).parent / "data" / "nlu_holdout.yml"


def test_label_scores_match_hand_computed_values() -> None:
    # a: 2 of 3 found, never wrongly predicted; b: 1 of 2, one false alarm; c: 1 of 1, one false alarm.
    scores = score_labels(gold=["a", "a", "a", "b", "b", "c"], predicted=["a", "a", "b", "b", "c", "c"])

    assert scores["a"] == Score(precision=1.0, recall=pytest.approx(2 / 3), f1=pytest.approx(0.8), support=3)
    assert scores["b"] == Score(precision=0.5, recall=0.5, f1=0.5, support=2)
    assert scores["c"] == Score(precision=0.5, recall=1.0, f1=pytest.approx(2 / 3), support=1)


def test_label_never_gold_scores_zero_with_no_support() -> None:
    scores = score_labels(gold=["a", "a"], predicted=["a", "x"])

    assert scores["x"] == Score(precision=0.0, recall=0.0, f1=0.0, support=0)


def _predictions(pairs: list[tuple[str, str]]) -> list[Prediction]:
    return [Prediction(text=f"text {i}", gold=g, predicted=p, confidence=i / 10) for i, (g, p) in enumerate(pairs)]


def test_summary_reports_accuracy_and_averaged_f1() -> None:
    result = summarise(_predictions([("a", "a"), ("a", "a"), ("a", "b"), ("b", "b")]))

    # a: P 1, R 2/3, F1 0.8 (support 3); b: P 0.5, R 1, F1 2/3 (support 1).
    assert result.accuracy == 0.75
    assert result.macro_f1 == pytest.approx((0.8 + 2 / 3) / 2)
    assert result.weighted_f1 == pytest.approx((0.8 * 3 + 2 / 3) / 4)


def test_summary_sorts_confusions_by_count_and_errors_by_confidence() -> None:
    result = summarise(_predictions([("a", "b"), ("c", "a"), ("c", "a"), ("b", "b")]))

    assert result.confusions == [Confusion("c", "a", 2), Confusion("a", "b", 1)]
    assert [(m.text, m.gold, m.predicted) for m in result.misclassified] == [
        ("text 2", "c", "a"), ("text 1", "c", "a"), ("text 0", "a", "b")]


def test_stratified_folds_cover_every_example_exactly_once() -> None:
    labels = ["a"] * 7 + ["b"] * 5 + ["c"] * 3

    folds = stratified_folds(labels, folds=3, seed=42)

    assert sorted(i for fold in folds for i in fold) == list(range(len(labels)))


def test_stratified_folds_spread_each_intent_evenly() -> None:
    labels = ["a"] * 7 + ["b"] * 5 + ["c"] * 3

    folds = stratified_folds(labels, folds=3, seed=42)

    for label, total in Counter(labels).items():
        per_fold = [sum(labels[i] == label for i in fold) for fold in folds]
        assert max(per_fold) - min(per_fold) <= 1, (label, per_fold)
        assert sum(per_fold) == total
    assert max(map(len, folds)) - min(map(len, folds)) <= 1


def test_stratified_folds_depend_only_on_the_seed() -> None:
    labels = ["a"] * 10 + ["b"] * 10

    assert stratified_folds(labels, folds=4, seed=7) == stratified_folds(labels, folds=4, seed=7)
    assert stratified_folds(labels, folds=4, seed=7) != stratified_folds(labels, folds=4, seed=8)


def test_entity_scores_count_hits_misses_and_false_alarms_by_value() -> None:
    scores = score_entities(
        gold=[[("mfa_method", "app")], [("mfa_method", "phone")], []],
        predicted=[[("mfa_method", "app")], [("mfa_method", "app")], [("npi", "1234567893")]],
    )

    assert scores["mfa_method"] == Score(precision=0.5, recall=0.5, f1=0.5, support=2)
    assert scores["npi"] == Score(precision=0.0, recall=0.0, f1=0.0, support=0)


def test_entity_values_compare_phone_digits_and_codes_without_case() -> None:
    scores = score_entities(
        gold=[[("phone_number", "(919) 555-0142"), ("error_code", "e05"),
               ("tracking_number", "mfa-7k4p-9qxd-2mwa")]],
        predicted=[[("phone_number", "+19195550142"), ("error_code", "E05"),
                    ("tracking_number", "MFA-7K4P-9QXD-2MWA")]],
    )

    assert {name: s.f1 for name, s in scores.items()} == {
        "phone_number": 1.0, "error_code": 1.0, "tracking_number": 1.0}


def test_entity_value_named_twice_in_one_message_counts_once() -> None:
    # "Error Code# E05: User Not Found": the code and its message both mean E05.
    scores = score_entities(gold=[[("error_code", "E05")]],
                            predicted=[[("error_code", "E05"), ("error_code", "E05")]])

    assert scores["error_code"] == Score(precision=1.0, recall=1.0, f1=1.0, support=1)


def test_entities_outside_the_scored_set_are_ignored() -> None:
    assert score_entities(gold=[[("colour", "red")]], predicted=[[("colour", "blue")]]) == {}


# A dev set in the public set's format, written here (the public one is never copied).
DEV_SET = """
examples:
  - text: "ugh, E-06 again when I sign in"
    intent: report_error
    entities: {error_code: E06}
  - text: "please reset my NCID password, it's locked"
    intent: out_of_scope
  - text: "where's my ticket MFA-3Q7R-8ZT2-K4DW"
    intent: ticket_status
    entities: {tracking_number: MFA-3Q7R-8ZT2-K4DW}
  - text: "I'd rather use the phone call option"
    intent: enroll_phone
    entities: {mfa_method: phone}
    optional_entities: {phone_number: "8006886696"}
"""


def test_dev_set_scoring_follows_the_public_runner() -> None:
    examples = [
        DevExample("a", "greet", frozenset({("npi", "1234567893")}), frozenset()),
        DevExample("b", "out_of_scope", frozenset({("mfa_method", "app")}), frozenset({("phone_number", "9195550100")})),
        DevExample("c", "out_of_scope", frozenset(), frozenset()),
    ]
    parses = [
        {"intent": {"name": "greet", "confidence": 0.9}, "entities": [
            {"entity": "npi", "value": "1234567893"}, {"entity": "email", "value": "x@y.org"}]},
        {"intent": {"name": "out_of_scope", "confidence": 0.8}, "entities": [
            {"entity": "mfa_method", "value": "phone"}, {"entity": "phone_number", "value": "+19195550100"}]},
        {"intent": {"name": "greet", "confidence": 0.4}, "entities": [{"entity": "off_topic", "value": "claims"}]},
    ]

    score = score_dev_set(examples, parses)

    # npi hit; the email is no false alarm (no email annotated there); the optional phone is
    # neither; mfa_method: app missed and phone a false alarm (the type is annotated there).
    assert (score.accuracy, score.out_of_scope_found, score.out_of_scope_total) == (pytest.approx(2 / 3), 1, 2)
    assert score.entity_counts == {"npi": {"tp": 1}, "mfa_method": {"fn": 1, "fp": 1}}
    assert (score.entity_precision, score.entity_recall, score.entity_f1) == (0.5, 0.5, 0.5)


def test_nlu_test_on_real_data_writes_reports_and_meets_the_bars(tmp_path: Path) -> None:
    dev_set = tmp_path / "dev.yml"
    dev_set.write_text(DEV_SET, encoding="utf-8")
    summary = run_nlu_test(Settings.load(env={}), holdout_path=HOLDOUT, out_dir=tmp_path, folds=3,
                           dev_set_path=dev_set)

    report = json.loads((tmp_path / "nlu_report.json").read_text(encoding="utf-8"))
    assert report["summary"] == summary
    assert (tmp_path / "nlu_report.md").read_text(encoding="utf-8").startswith("# NLU test report")
    assert summary["holdout_accuracy"] >= 0.95
    assert summary["out_of_scope_recall"] >= 0.95
    assert summary["passed"] is True
    assert summary["dev_set"]["accuracy"] == 1.0 and summary["dev_set"]["entity_f1"] == 1.0
    assert report["dev_set"]["examples"] == 4
    assert "## Public dev set (measured, never trained on)" in (tmp_path / "nlu_report.md").read_text(encoding="utf-8")


def test_nlu_test_skips_a_missing_dev_set_cleanly(tmp_path: Path) -> None:
    summary = run_nlu_test(Settings.load(env={}), holdout_path=HOLDOUT, out_dir=tmp_path, folds=2,
                           dev_set_path=tmp_path / "absent.yml")

    assert summary["dev_set"] == {"skipped": f"not found: {tmp_path / 'absent.yml'}"}
    assert "Public dev set: not found" in (tmp_path / "nlu_report.md").read_text(encoding="utf-8")
