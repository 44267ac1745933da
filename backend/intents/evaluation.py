"""How well the NLU does: per-intent precision / recall / F1, confusions, accuracy, macro-F1, cross-validation.

``flask chat-eval FILE.jsonl`` prints ``format_report(evaluate_examples(load_examples(FILE)))``, whose last line
is exactly ``accuracy=0.XXXX macro_f1=0.XXXX`` (DESIGN §4.7).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from backend.intents.nlu import THRESHOLDS, Example, Nlu, Thresholds, load


@dataclass(frozen=True)
class IntentMetrics:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int  # how many gold labels of this intent


@dataclass(frozen=True)
class Confusion:
    gold: str
    predicted: str
    count: int


@dataclass(frozen=True)
class Report:
    per_intent: tuple[IntentMetrics, ...]  # every label seen in gold or predictions, by name
    confusions: tuple[Confusion, ...]  # gold ≠ predicted pairs, most frequent first
    accuracy: float
    macro_f1: float  # unweighted mean over per_intent
    total: int


def evaluate(gold: Sequence[str], predicted: Sequence[str]) -> Report:
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted labels differ in length")
    pairs = Counter(zip(gold, predicted))
    gold_counts, predicted_counts = Counter(gold), Counter(predicted)
    per_intent = tuple(
        _metrics(label, pairs[(label, label)], predicted_counts[label], gold_counts[label])
        for label in sorted(gold_counts | predicted_counts)
    )
    confusions = sorted(
        (Confusion(g, p, n) for (g, p), n in pairs.items() if g != p),
        key=lambda confusion: (-confusion.count, confusion.gold, confusion.predicted),
    )
    correct = sum(n for (g, p), n in pairs.items() if g == p)
    return Report(
        per_intent=per_intent,
        confusions=tuple(confusions),
        accuracy=correct / len(gold) if gold else 0.0,
        macro_f1=sum(m.f1 for m in per_intent) / len(per_intent) if per_intent else 0.0,
        total=len(gold),
    )


def _metrics(label: str, true_positives: int, predicted: int, actual: int) -> IntentMetrics:
    precision = true_positives / predicted if predicted else 0.0
    recall = true_positives / actual if actual else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return IntentMetrics(label, precision, recall, f1, actual)


def format_report(report: Report) -> list[str]:
    lines = [f"{'intent':<24} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>7}"]
    lines += [
        f"{m.intent:<24} {m.precision:>9.4f} {m.recall:>7.4f} {m.f1:>7.4f} {m.support:>7d}" for m in report.per_intent
    ]
    if report.confusions:
        lines.append("confusions (gold -> predicted: count)")
        lines += [f"  {c.gold} -> {c.predicted}: {c.count}" for c in report.confusions]
    lines.append(f"accuracy={report.accuracy:.4f} macro_f1={report.macro_f1:.4f}")
    return lines


def evaluate_examples(examples: Sequence[Example], nlu: Nlu | None = None) -> Report:
    """Run the NLU (the shipped default unless given) over labelled examples."""
    nlu = nlu or load()
    return evaluate([e.intent for e in examples], [nlu.understand(e.text).intent for e in examples])


def cross_validate(
    examples: Sequence[Example],
    k: int = 5,
    seed: int = 0,
    thresholds: Thresholds = THRESHOLDS,
    build: Callable[[Sequence[Example], Thresholds], Nlu] | None = None,
) -> Report:
    """Train on k−1 folds, predict the held-out fold, and score all held-out predictions together."""
    return cross_validate_grid(examples, [thresholds], k, seed, build)[0]


def cross_validate_grid(
    examples: Sequence[Example],
    grid: Sequence[Thresholds],
    k: int = 5,
    seed: int = 0,
    build: Callable[[Sequence[Example], Thresholds], Nlu] | None = None,
) -> list[Report]:
    """One cross-validation report per thresholds in ``grid``; each fold's scorer is trained once.

    Only the scorer depends on the training folds, so the thresholds (out-of-scope floor, keyword weight...)
    can be compared on exactly the same folds: this is how THRESHOLDS were chosen.
    """
    build = build or (lambda train, thresholds: Nlu.from_examples(train, thresholds=thresholds))
    gold: list[str] = []
    predicted: list[list[str]] = [[] for _ in grid]
    for train, held_out in _stratified_folds(examples, k, seed):
        nlu = build(train, grid[0])
        gold += [example.intent for example in held_out]
        for column, thresholds in enumerate(grid):
            variant = _with_thresholds(nlu, thresholds)
            predicted[column] += [variant.understand(example.text).intent for example in held_out]
    return [evaluate(gold, column) for column in predicted]


def _with_thresholds(nlu: Nlu, thresholds: Thresholds) -> Nlu:
    return Nlu(nlu.scorer, nlu.rules, nlu.normaliser, thresholds)


def _stratified_folds(
    examples: Iterable[Example], k: int, seed: int
) -> list[tuple[list[Example], list[Example]]]:
    """k folds with each intent spread evenly; the same seed gives the same folds."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    rng = random.Random(seed)
    folds: list[list[Example]] = [[] for _ in range(k)]
    position = 0
    for intent in sorted(by_intent):
        group = by_intent[intent]
        rng.shuffle(group)
        for example in group:
            folds[position % k].append(example)
            position += 1
    return [
        ([example for other in range(k) if other != index for example in folds[other]], folds[index])
        for index in range(k)
    ]
