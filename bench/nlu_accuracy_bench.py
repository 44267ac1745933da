"""Intent accuracy targets of issue 10 as bench rows, on the held-out questions nothing was tuned on.

``tests/intents/data/heldout.jsonl`` (see the README's chatbot section for how it was made). The baseline is the
character 1–3-gram TF-IDF + logistic regression of ``backend/intents/baseline.py``, trained on the same
``training.jsonl`` in the same run. ``flask chat-eval`` prints the full reports.
"""

from __future__ import annotations

from pathlib import Path

from backend.intents import evaluation, nlu
from backend.intents.baseline import Baseline
from bench.harness import Row

HELD_OUT = Path(__file__).resolve().parent.parent / "tests" / "intents" / "data" / "heldout.jsonl"
LEAD_POINTS = 5.0
HIGH_CONFIDENCE_ACCURACY = 0.97
OUT_OF_SCOPE_RECALL = 0.95
IN_SCOPE_REFUSED = 0.03


def rows() -> list[Row]:
    examples = nlu.load_examples(HELD_OUT)
    training = nlu.load_examples(nlu.TRAINING_FILE)
    project = evaluation.evaluate_examples(examples)
    labels, confidences = Baseline(training).predict([e.text for e in examples])
    baseline = evaluation.evaluate([e.intent for e in examples], labels, confidences)
    lead = (project.accuracy - baseline.accuracy) * 100
    sure = project.calibration
    return [
        Row("held-out accuracy, project", project.accuracy * 100, "%", "TF-IDF+LR baseline",
            baseline.accuracy * 100, f"value >= baseline + {LEAD_POINTS:g}", met=lead >= LEAD_POINTS),
        Row(f"held-out accuracy at confidence >= {evaluation.HIGH_CONFIDENCE}", sure.high_accuracy * 100, "%",
            "accuracy at all confidences", project.accuracy * 100,
            f"value >= {HIGH_CONFIDENCE_ACCURACY * 100:g}", met=sure.high_accuracy >= HIGH_CONFIDENCE_ACCURACY),
        Row("held-out out_of_scope recall", project.out_of_scope_recall * 100, "%", "baseline's",
            baseline.out_of_scope_recall * 100, f"value >= {OUT_OF_SCOPE_RECALL * 100:g}",
            met=project.out_of_scope_recall >= OUT_OF_SCOPE_RECALL),
        Row("held-out in-scope refused as out_of_scope", project.in_scope_refused * 100, "%", "baseline's",
            baseline.in_scope_refused * 100, f"value <= {IN_SCOPE_REFUSED * 100:g}",
            met=project.in_scope_refused <= IN_SCOPE_REFUSED),
    ]  # fmt: skip
