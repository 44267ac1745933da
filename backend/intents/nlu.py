"""Intent understanding: a statistical model over jieba words and character n-grams, combined with keyword rules.

The text is first normalised (``normalise``: traditional → simplified, pinyin shorthands, typos, homophones of
domain terms, the colloquial lexicon). The model (``model.IntentModel``: TF-IDF features, logistic regression)
gives every intent of the catalogue a log-probability; each intent's keyword-rule score (``rules``, −1..1) is
added with ``keyword_weight``; a softmax at ``temperature`` turns the sums into confidences. Two intents closer
than ``ambiguity_margin`` make the result ambiguous, which the dialogue turns into a question.

Confidence is meant to mean something: the thresholds were chosen by cross-validation on the training data only
(``evaluation.cross_validate_grid``), so that answers given at high confidence are right and doubtful ones are
asked about. ``load()`` (the app's start-up hook, before gunicorn forks) trains the default instance from the
shipped data; ``Nlu.from_examples`` builds one from any examples, which is what cross-validation does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from backend.intents import tokenizer
from backend.intents.catalogue import INTENTS, OUT_OF_SCOPE
from backend.intents.entities import Entity, extract
from backend.intents.model import IntentModel, features
from backend.intents.normalise import Normaliser
from backend.intents.rules import KeywordRules

__all__ = ["INTENTS", "OUT_OF_SCOPE", "Example", "IntentScore", "KeywordRules", "Nlu", "NluResult", "Thresholds",
           "load", "load_examples", "understand"]

DATA_DIR = Path(__file__).parent / "data"
TRAINING_FILE = DATA_DIR / "training.jsonl"


@dataclass(frozen=True)
class Thresholds:
    """Every tunable number of the NLU, in one place (chosen by 5-fold cross-validation on training.jsonl)."""

    ambiguity_margin: float = 0.1  # top-two confidence gap under this → is_ambiguous
    keyword_weight: float = 4.0  # keyword-rule score (−1..1) added to the model's log-probability with this weight
    temperature: float = 1.6  # softmax temperature turning the sums into confidences


THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


@dataclass(frozen=True)
class IntentScore:
    intent: str
    confidence: float


@dataclass(frozen=True)
class NluResult:
    text: str
    intent: str
    confidence: float
    ranking: tuple[IntentScore, ...]  # every intent of the catalogue, most likely first
    entities: tuple[Entity, ...]
    is_ambiguous: bool

    def as_dict(self) -> dict:
        """The shape of ``POST /api/v1/chat/nlu`` (DESIGN §4.7), plus ``is_ambiguous``."""
        return {
            "intent": self.intent,
            "confidence": self.confidence,
            "is_ambiguous": self.is_ambiguous,
            "ranking": [{"intent": s.intent, "confidence": s.confidence} for s in self.ranking],
            "entities": [entity.as_dict() for entity in self.entities],
        }


# --- loading -------------------------------------------------------------------------------------------------

_lock = threading.Lock()
_default: Nlu | None = None


def load() -> Nlu:
    """Build the default NLU from the shipped data once (idempotent, thread-safe, cheap afterwards)."""
    global _default
    if _default is not None:
        return _default
    with _lock:
        if _default is None:
            _default = Nlu.from_examples(load_examples(TRAINING_FILE))
    return _default


def understand(text: str, today: dt.date | None = None) -> NluResult:
    """Understand one message with the default NLU; ``today`` resolves relative dates (昨天, 3月5号)."""
    return load().understand(text, today)


def load_examples(path: Path | str) -> list[Example]:
    """Read ``{"text", "intent"}`` JSON lines (the chat-eval file format too); blank lines are skipped."""
    examples = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                examples.append(Example(record["text"], record["intent"]))
    return examples


# --- the NLU -------------------------------------------------------------------------------------------------

# Entities whose exact text says nothing about the intent (which number, which name): the model sees only a
# flag. Keyword rules see everything but ID numbers, so 886 (bye-bye) still reads as a word.
_MASKED_FOR_FEATURES = frozenset({"id_number", "amount", "date", "person_name"})
_MASKED_FOR_KEYWORDS = frozenset({"id_number"})
_SPACES = re.compile(r"\s+")
_FLOOR = -30.0  # log-probability of an intent the model was not trained on


class Nlu:
    """A trained model, the keyword rules, the normaliser and the thresholds: everything understand() needs."""

    def __init__(self, model: IntentModel, rules: KeywordRules, normaliser: Normaliser,
                 thresholds: Thresholds = THRESHOLDS):
        self.model = model
        self.rules = rules
        self.normaliser = normaliser
        self.thresholds = thresholds

    @classmethod
    def from_examples(cls, examples: Iterable[Example], rules: KeywordRules | None = None,
                      normaliser: Normaliser | None = None, thresholds: Thresholds = THRESHOLDS) -> Nlu:
        """Train the model on ``examples``; rules and lexicon default to the shipped data files."""
        tokenizer.load()
        normaliser = normaliser or Normaliser.from_files()
        rules = rules if rules is not None else KeywordRules.from_file()
        examples = list(examples)
        nlu = cls(IntentModel.untrained(), rules, normaliser, thresholds)
        featurised = [nlu._features(nlu._read(e.text)) for e in examples]
        nlu.model = IntentModel.fit(featurised, [e.intent for e in examples])
        return nlu

    def understand(self, text: str, today: dt.date | None = None) -> NluResult:
        reading = self._read(text, today)
        ranking = self._ranking(self._combined(reading))
        best, runner_up = ranking[0], ranking[1]
        return NluResult(
            text=text,
            intent=best.intent,
            confidence=best.confidence,
            ranking=ranking,
            entities=reading.entities,
            is_ambiguous=best.confidence - runner_up.confidence < self.thresholds.ambiguity_margin,
        )

    def scores(self, text: str, entities: Sequence[Entity] | None = None) -> dict[str, float]:
        """The combined score (log-probability + weighted rules) of every intent, before the softmax."""
        return self._combined(self._read(text))

    def _read(self, text: str, today: dt.date | None = None) -> _Reading:
        # Entities are found in the simplified text when it kept the original's length (OpenCC maps characters
        # one to one), so 媽媽 is a mother too; their text and offsets are the original's. Entities are masked
        # in the original, before normalising changes lengths (ye → 余额).
        simplified = self.normaliser.simplified(text)
        source = simplified if len(simplified) == len(text) else text
        entities = tuple(_with_text_of(entity, text) for entity in extract(source, today))
        for_model = self.normaliser(_masked(text, entities, _MASKED_FOR_FEATURES, " "))
        for_rules = _SPACES.sub("", self.normaliser(_masked(text, entities, _MASKED_FOR_KEYWORDS, "#")))
        return _Reading(text, for_model, for_rules, entities)

    def _features(self, reading: _Reading) -> dict[str, float]:
        return features(self.normaliser.expanded(reading.for_model), reading.entities)

    def _combined(self, reading: _Reading) -> dict[str, float]:
        message_features = self._features(reading)
        if not message_features:  # nothing but punctuation or spaces: nothing to answer
            return {intent: 0.0 if intent == OUT_OF_SCOPE else _FLOOR for intent in INTENTS}
        log_probabilities = self.model.log_probabilities(message_features)
        keyword_text = self.normaliser.expanded(reading.for_rules)
        keywords = self.rules.scores(keyword_text, {e.type for e in reading.entities})
        weight = self.thresholds.keyword_weight
        return {intent: log_probabilities.get(intent, _FLOOR) + weight * keywords.get(intent, 0.0)
                for intent in INTENTS}

    def _ranking(self, scores: Mapping[str, float]) -> tuple[IntentScore, ...]:
        top = max(scores.values())
        temperature = self.thresholds.temperature
        weights = {intent: math.exp((score - top) / temperature) for intent, score in scores.items()}
        total = sum(weights.values())
        ranked = sorted(INTENTS, key=lambda intent: (-scores[intent], INTENTS.index(intent)))
        return tuple(IntentScore(intent, round(weights[intent] / total, 4)) for intent in ranked)


@dataclass(frozen=True)
class _Reading:
    text: str
    for_model: str  # normalised, names/numbers/amounts/dates masked
    for_rules: str  # normalised, ID numbers masked as #, no spaces (patterns need no \s*)
    entities: tuple[Entity, ...]


def _with_text_of(entity: Entity, text: str) -> Entity:
    return Entity(entity.type, entity.value, text[entity.start:entity.end], entity.start, entity.end)


def _masked(text: str, entities: Sequence[Entity], types: frozenset[str], mask: str) -> str:
    pieces, position = [], 0
    for entity in entities:
        if entity.type in types:
            pieces += [text[position:entity.start], mask]
            position = entity.end
    pieces.append(text[position:])
    return "".join(pieces)
