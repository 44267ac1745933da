import pytest

from backend.intents.evaluation import Confusion, cross_validate, evaluate, format_report
from backend.intents.nlu import TRAINING_FILE, load_examples

# Hand-worked example: gold a a a b b c, predicted a a b b c c
#   a: 2 right of 2 predicted, 3 gold → P 1, R 2/3, F1 = 2·1·(2/3)/(1+2/3) = 0.8
#   b: 1 right of 2 predicted, 2 gold → P 1/2, R 1/2, F1 1/2
#   c: 1 right of 2 predicted, 1 gold → P 1/2, R 1, F1 = 2·(1/2)·1/(3/2) = 2/3
#   accuracy 4/6; macro-F1 (0.8 + 0.5 + 2/3) / 3 = 0.65556
GOLD = ["a", "a", "a", "b", "b", "c"]
PREDICTED = ["a", "a", "b", "b", "c", "c"]


def test_per_intent_precision_recall_and_f1_match_the_hand_computation():
    report = evaluate(GOLD, PREDICTED)
    by_intent = {m.intent: m for m in report.per_intent}
    assert (by_intent["a"].precision, by_intent["a"].recall, by_intent["a"].f1) == pytest.approx((1, 2 / 3, 0.8))
    assert (by_intent["b"].precision, by_intent["b"].recall, by_intent["b"].f1) == pytest.approx((0.5, 0.5, 0.5))
    assert (by_intent["c"].precision, by_intent["c"].recall, by_intent["c"].f1) == pytest.approx((0.5, 1, 2 / 3))
    assert [m.support for m in report.per_intent] == [3, 2, 1]


def test_accuracy_macro_f1_and_confusions_match_the_hand_computation():
    report = evaluate(GOLD, PREDICTED)
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert report.confusions == (Confusion("a", "b", 1), Confusion("b", "c", 1))
    assert report.total == 6


def test_the_report_ends_with_the_exact_accuracy_line():
    lines = format_report(evaluate(GOLD, PREDICTED))
    assert lines[-1] == "accuracy=0.6667 macro_f1=0.6556"
    assert any(line.split()[0] == "a" and "0.8000" in line for line in lines)
    assert "  a -> b: 1" in lines


def test_a_label_that_is_only_ever_predicted_counts_with_zero_precision():
    report = evaluate(["a", "a"], ["a", "z"])
    z = next(m for m in report.per_intent if m.intent == "z")
    assert (z.precision, z.recall, z.f1, z.support) == (0, 0, 0, 0)
    assert report.macro_f1 == pytest.approx((2 * 1 * 0.5 / 1.5 + 0) / 2)


def test_a_perfect_run_reports_ones_and_no_confusions():
    report = evaluate(["a", "b"], ["a", "b"])
    assert format_report(report)[-1] == "accuracy=1.0000 macro_f1=1.0000"
    assert report.confusions == ()


def test_gold_and_predicted_must_have_the_same_length():
    with pytest.raises(ValueError):
        evaluate(["a"], ["a", "b"])


def test_cross_validation_predicts_every_example_once_on_a_model_that_never_saw_it():
    examples = load_examples(TRAINING_FILE)
    subset = [e for i, e in enumerate(examples) if i % 3 == 0]  # a third, to keep the test quick
    report = cross_validate(subset, k=3, seed=7)
    assert report.total == len(subset)
    assert sum(m.support for m in report.per_intent) == len(subset)
    assert report.accuracy >= 0.8


def test_cross_validation_is_repeatable_with_the_same_seed():
    examples = load_examples(TRAINING_FILE)[::5]
    assert cross_validate(examples, k=2, seed=1) == cross_validate(examples, k=2, seed=1)


def test_cross_validation_needs_two_folds():
    with pytest.raises(ValueError):
        cross_validate(load_examples(TRAINING_FILE)[:10], k=1)
