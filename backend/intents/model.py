"""The statistical part of the NLU: logistic regression over TF-IDF of jieba words and character n-grams.

Features of a (normalised) message: its jieba words (particles left out), its characters, character bigrams and
trigrams (typos and unknown words still share some), and one flag per entity type present. ``IntentModel``
trains scikit-learn's ``DictVectorizer`` → ``TfidfTransformer`` → ``LogisticRegression`` on them; it is small
(a few thousand features × the catalogue) and trains in about a second at start-up, before gunicorn forks.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression

from backend.intents import tokenizer
from backend.intents.entities import Entity

_RUN = re.compile(r"[0-9a-z\u4e00-\u9fff]+")
# Particles carry no intent as whole words; they still appear inside character n-grams.
_STOP_WORDS = frozenset("的 了 吗 呢 啊 吧 呀 哦 嘛 么 我 请问 一下 是 在 和 就 都 也 个".split())
# Inverse regularisation strength, chosen by cross-validation on the training data (evaluation.py).
C = 20.0


def features(text: str, entities: Sequence[Entity]) -> dict[str, float]:
    counts: Counter = Counter("@" + entity.type for entity in entities)
    for word in tokenizer.cut(text):
        if _RUN.fullmatch(word) and word not in _STOP_WORDS:
            counts["w:" + word] += 1
    for run in _RUN.findall(text):
        for position, char in enumerate(run):
            counts["c:" + char] += 1
            if position >= 1:
                counts["b:" + run[position - 1:position + 1]] += 1
            if position >= 2:
                counts["t:" + run[position - 2:position + 1]] += 1
    return dict(counts)


class IntentModel:
    """Trained with scikit-learn; predicts with the learnt numbers directly (vocabulary, idf, weights): the same
    arithmetic as the pipeline's ``transform`` + ``decision_function`` without its per-call input checks, which
    cost ten times the arithmetic for a single message."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, weights: np.ndarray, intercept: np.ndarray,
                 classes: Sequence[str]):
        self.vocabulary = vocabulary
        self.idf = idf
        self.weights = weights  # feature × class (rows indexed by the vocabulary)
        self.intercept = intercept
        self.classes = tuple(classes)

    @classmethod
    def untrained(cls) -> IntentModel:
        return cls({}, np.zeros(0), np.zeros((0, 0)), np.zeros(0), ())

    @classmethod
    def fit(cls, featurised: Sequence[dict[str, float]], labels: Sequence[str], c: float | None = None) -> IntentModel:
        classes = sorted(set(labels))
        vectoriser = DictVectorizer()
        tfidf = TfidfTransformer(sublinear_tf=True)
        matrix = tfidf.fit_transform(vectoriser.fit_transform(featurised))
        if len(classes) == 1:  # nothing to tell apart: the one intent it knows, whatever the message
            return cls(vectoriser.vocabulary_, tfidf.idf_, np.zeros((len(tfidf.idf_), 1)), np.zeros(1), classes)
        classifier = LogisticRegression(C=c or C, max_iter=2000)
        classifier.fit(matrix, labels)
        weights, intercept = classifier.coef_, classifier.intercept_
        if len(classes) == 2:  # binary: one row of weights for the second class, against the first
            weights, intercept = np.vstack([-weights / 2, weights / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
        return cls(vectoriser.vocabulary_, tfidf.idf_, np.ascontiguousarray(weights.T), intercept,
                   list(classifier.classes_))

    def log_probabilities(self, message_features: dict[str, float]) -> dict[str, float]:
        if not self.classes:
            return {}
        known = [(self.vocabulary[name], count) for name, count in message_features.items()
                 if name in self.vocabulary]
        logits = self.intercept.copy()
        if known:
            columns = np.fromiter((column for column, _ in known), dtype=np.intp, count=len(known))
            counts = np.fromiter((count for _, count in known), dtype=np.float64, count=len(known))
            values = (1.0 + np.log(counts)) * self.idf[columns]
            values /= np.sqrt(values @ values)
            logits += values @ self.weights[columns]
        top = float(logits.max())
        norm = top + math.log(float(np.exp(logits - top).sum()))
        return {intent: float(logit) - norm for intent, logit in zip(self.classes, logits)}
