"""The yardstick chat-eval prints beside the project's figures: a plain statistical intent classifier.

Character 1–3-gram TF-IDF and a logistic regression (scikit-learn defaults), trained on the same
``training.jsonl`` as the project's NLU — no jieba, no rules, no lexicon, no thresholds. Issue 10 asks the
project to beat it by at least 5 points of accuracy on questions neither has seen.
"""

from __future__ import annotations

from collections.abc import Sequence

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from backend.intents.nlu import Example

DESCRIPTION = "baseline: char 1-3-gram TF-IDF + logistic regression, trained on the same training data"


class Baseline:
    def __init__(self, examples: Sequence[Example]):
        self.pipeline = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                                      LogisticRegression(max_iter=2000))
        self.pipeline.fit([e.text for e in examples], [e.intent for e in examples])

    def predict(self, texts: Sequence[str]) -> tuple[list[str], list[float]]:
        """Labels and confidences (the highest class probability) for every text."""
        probabilities = self.pipeline.predict_proba(list(texts))
        classes = self.pipeline.classes_
        best = probabilities.argmax(axis=1)
        return [str(classes[i]) for i in best], [float(probabilities[row, i]) for row, i in enumerate(best)]
