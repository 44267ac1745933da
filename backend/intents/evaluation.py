"""How well the NLU does: per-intent precision / recall / F1, confusions, accuracy, macro-F1, how right it is at
high and at low confidence, out-of-scope recall, cross-validation — and the same figures for a plain baseline.

``flask chat-eval FILE.jsonl`` prints the project's report, the baseline's beside it (a character 1–3-gram TF-IDF
+ logistic regression trained on the same ``training.jsonl``, ``baseline.py``), and last, for the project,
exactly ``accuracy=0.XXXX macro_f1=0.XXXX`` (DESIGN §4.7).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from backend.intents.baseline import DESCRIPTION, Baseline
from backend.intents.catalogue import OUT_OF_SCOPE
from backend.intents.nlu import THRESHOLDS, Example, Nlu, Thresholds, load

HIGH_CONFIDENCE = 0.8


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
class Calibration:
    """How often the answer is right when the model is sure (confidence ≥ HIGH_CONFIDENCE) and when it is not."""

    high_count: int
    high_accuracy: float
    low_count: int
    low_accuracy: float


@dataclass(frozen=True)
class Report:
    per_intent: tuple[IntentMetrics, ...]  # every label seen in gold or predictions, by name
    confusions: tuple[Confusion, ...]  # gold ≠ predicted pairs, most frequent first
    accuracy: float
    macro_f1: float  # unweighted mean over per_intent
    total: int
    calibration: Calibration | None = None
    out_of_scope_recall: float | None = None  # out-of-scope questions answered as out of scope
    in_scope_refused: float | None = None  # in-scope questions answered as out of scope


def evaluate(gold: Sequence[str], predicted: Sequence[str], confidences: Sequence[float] | None = None) -> Report:
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
    out_of_scope = [p for g, p in zip(gold, predicted) if g == OUT_OF_SCOPE]
    in_scope = [p for g, p in zip(gold, predicted) if g != OUT_OF_SCOPE]
    return Report(
        per_intent=per_intent,
        confusions=tuple(confusions),
        accuracy=correct / len(gold) if gold else 0.0,
        macro_f1=sum(m.f1 for m in per_intent) / len(per_intent) if per_intent else 0.0,
        total=len(gold),
        calibration=_calibration(gold, predicted, confidences) if confidences is not None else None,
        out_of_scope_recall=_share(out_of_scope, OUT_OF_SCOPE) if out_of_scope else None,
        in_scope_refused=_share(in_scope, OUT_OF_SCOPE) if in_scope else None,
    )


def _share(labels: Sequence[str], label: str) -> float:
    return sum(1 for item in labels if item == label) / len(labels)


def _calibration(gold: Sequence[str], predicted: Sequence[str], confidences: Sequence[float]) -> Calibration:
    high = [g == p for g, p, c in zip(gold, predicted, confidences) if c >= HIGH_CONFIDENCE]
    low = [g == p for g, p, c in zip(gold, predicted, confidences) if c < HIGH_CONFIDENCE]
    return Calibration(len(high), sum(high) / len(high) if high else 0.0, len(low), sum(low) / len(low) if low else 0.0)


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
    lines += summary_lines(report)
    lines.append(f"accuracy={report.accuracy:.4f} macro_f1={report.macro_f1:.4f}")
    return lines


def summary_lines(report: Report) -> list[str]:
    lines = []
    if report.calibration is not None:
        c = report.calibration
        lines.append(f"confidence >= {HIGH_CONFIDENCE}: {c.high_count} answered, accuracy {c.high_accuracy:.4f}; "
                     f"below: {c.low_count}, accuracy {c.low_accuracy:.4f}")
    if report.out_of_scope_recall is not None:
        lines.append(f"out_of_scope recall {report.out_of_scope_recall:.4f}")
    if report.in_scope_refused is not None:
        lines.append(f"in-scope questions refused as out_of_scope {report.in_scope_refused:.4f}")
    return lines


def evaluate_examples(examples: Sequence[Example], nlu: Nlu | None = None) -> Report:
    """Run the NLU (the shipped default unless given) over labelled examples."""
    nlu = nlu or load()
    results = [nlu.understand(e.text) for e in examples]
    return evaluate([e.intent for e in examples], [r.intent for r in results], [r.confidence for r in results])


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
    confidences: list[list[float]] = [[] for _ in grid]
    for train, held_out in _stratified_folds(examples, k, seed):
        nlu = build(train, grid[0])
        gold += [example.intent for example in held_out]
        for column, thresholds in enumerate(grid):
            variant = _with_thresholds(nlu, thresholds)
            results = [variant.understand(example.text) for example in held_out]
            predicted[column] += [r.intent for r in results]
            confidences[column] += [r.confidence for r in results]
    return [evaluate(gold, labels, sure) for labels, sure in zip(predicted, confidences)]


def _with_thresholds(nlu: Nlu, thresholds: Thresholds) -> Nlu:
    return Nlu(nlu.model, nlu.rules, nlu.normaliser, thresholds)


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


def baseline_lines(training: Sequence[Example], examples: Sequence[Example], project: Report) -> list[str]:
    """The baseline's figures on the same examples, and the project's lead over it in points of accuracy."""
    predicted, confidences = Baseline(training).predict([e.text for e in examples])
    report = evaluate([e.intent for e in examples], predicted, confidences)
    lead = (project.accuracy - report.accuracy) * 100
    return [f"{DESCRIPTION} ({len(examples)} examples):",
            f"  baseline accuracy={report.accuracy:.4f} macro_f1={report.macro_f1:.4f}",
            *("  baseline " + line for line in summary_lines(report)),
            f"  project  accuracy={project.accuracy:.4f} macro_f1={project.macro_f1:.4f}",
            *("  project  " + line for line in summary_lines(project)),
            f"  project - baseline: {lead:+.2f} points of accuracy"]
