"""Intent understanding: keyword rules + a lexical scorer over jieba words and characters (DESIGN §4.7).

Every intent of the catalogue gets a score = lexical similarity (TF-IDF cosine to the intent's centroid and to
its nearest training example) + ``keyword_weight`` × the intent's keyword-rule score. ``out_of_scope`` never
scores below ``out_of_scope_below``, so a message that matches nothing well falls to it. Confidences are a
softmax of the scores; two intents closer than ``ambiguity_margin`` make the result ambiguous, which the dialogue
turns into a question ("您是想…还是…?").

The default instance is built from the shipped data by ``load()`` (the app's start-up hook); ``Nlu.from_examples``
builds one from any list of examples, which is what cross-validation does.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from backend.intents import tokenizer
from backend.intents.entities import Entity, extract, to_halfwidth

DATA_DIR = Path(__file__).parent / "data"
TRAINING_FILE = DATA_DIR / "training.jsonl"
KEYWORDS_FILE = DATA_DIR / "keywords.json"
TYPOS_FILE = DATA_DIR / "typos.json"

OUT_OF_SCOPE = "out_of_scope"
INTENTS = (
    "greeting", "goodbye", "handoff_human",
    "sharing_grant", "sharing_revoke", "sharing_list",
    "account_balance", "account_history", "account_policy", "account_payout", "account_transfer",
    "caps_remaining", "benefit_policy", "benefit_estimate",
    "reimbursement_apply", "reimbursement_materials", "reimbursement_status",
    "settlement_details", "chronic_certification", "chronic_cap_adjust", "offsite_care",
    OUT_OF_SCOPE,
)  # fmt: skip


@dataclass(frozen=True)
class Thresholds:
    """Every tunable number of the NLU, in one place.

    Chosen by 5-fold cross-validation over the training data (``evaluation.cross_validate_grid``): the
    out-of-scope floor, keyword weight and nearest-example share on accuracy; the temperature on log-loss.
    """

    out_of_scope_below: float = 0.30  # best in-scope score under this → out_of_scope
    ambiguity_margin: float = 0.15  # top-two confidence gap under this → is_ambiguous
    keyword_weight: float = 0.7  # keyword-rule score (−1..1) added to the lexical score (0..1) with this weight
    temperature: float = 0.08  # softmax temperature turning scores into confidences
    nearest_example_weight: float = 0.5  # share of the nearest example vs the centroid in the lexical score


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


# --- the model -----------------------------------------------------------------------------------------------


class Nlu:
    """A trained scorer, the keyword rules, the typo table and the thresholds: everything understand() needs."""

    def __init__(
        self,
        scorer: LexicalScorer,
        rules: KeywordRules,
        normaliser: Normaliser,
        thresholds: Thresholds = THRESHOLDS,
    ):
        self.scorer = scorer
        self.rules = rules
        self.normaliser = normaliser
        self.thresholds = thresholds

    @classmethod
    def from_examples(
        cls,
        examples: Iterable[Example],
        rules: KeywordRules | None = None,
        normaliser: Normaliser | None = None,
        thresholds: Thresholds = THRESHOLDS,
    ) -> Nlu:
        """Train the lexical scorer on ``examples``; rules and typos default to the shipped data files."""
        tokenizer.load()
        if normaliser is None:
            normaliser = Normaliser.from_file(TYPOS_FILE)
        if rules is None:
            rules = KeywordRules.from_file(KEYWORDS_FILE)
        featurised = [(_features(normaliser, e.text, extract(e.text)), e.intent) for e in examples]
        return cls(LexicalScorer.fit(featurised), rules, normaliser, thresholds)

    def understand(self, text: str, today: dt.date | None = None) -> NluResult:
        entities = tuple(extract(text, today))
        scores = self.scores(text, entities)
        ranking = _ranking(scores, self.thresholds.temperature)
        best, runner_up = ranking[0], ranking[1]
        return NluResult(
            text=text,
            intent=best.intent,
            confidence=best.confidence,
            ranking=ranking,
            entities=entities,
            is_ambiguous=best.confidence - runner_up.confidence < self.thresholds.ambiguity_margin,
        )

    def scores(self, text: str, entities: Sequence[Entity]) -> dict[str, float]:
        """Raw score of every intent: lexical similarity + weighted keyword evidence, out_of_scope floored."""
        features = _features(self.normaliser, text, entities)
        lexical = self.scorer.scores(features, self.thresholds.nearest_example_weight)
        keywords = self.rules.scores(self.normaliser.keyword_text(text, entities), {e.type for e in entities})
        weight = self.thresholds.keyword_weight
        scores = {intent: lexical.get(intent, 0.0) + weight * keywords.get(intent, 0.0) for intent in INTENTS}
        scores[OUT_OF_SCOPE] = max(scores[OUT_OF_SCOPE], self.thresholds.out_of_scope_below)
        return scores


def _ranking(scores: Mapping[str, float], temperature: float) -> tuple[IntentScore, ...]:
    top = max(scores.values())
    weights = {intent: math.exp((score - top) / temperature) for intent, score in scores.items()}
    total = sum(weights.values())
    ranked = sorted(INTENTS, key=lambda intent: (-scores[intent], INTENTS.index(intent)))
    return tuple(IntentScore(intent, round(weights[intent] / total, 4)) for intent in ranked)


# --- text normalisation and features -------------------------------------------------------------------------

# Entities whose exact text says nothing about the intent (which number, which name): the lexical scorer sees
# only a flag. Keyword rules see everything but ID numbers, so 886 (bye-bye) still reads as a word.
_MASKED_FOR_FEATURES = frozenset({"id_number", "amount", "date", "person_name"})
_MASKED_FOR_KEYWORDS = frozenset({"id_number"})
_RUN = re.compile(r"[0-9a-z\u4e00-\u9fff]+")
_SPACES = re.compile(r"\s+")
# Particles carry no intent as whole words; they still appear inside character bigrams.
_STOP_WORDS = frozenset("的 了 吗 呢 啊 吧 呀 哦 嘛 么 我 请问 一下 是 在 和 就 都 也 个".split())


class Normaliser:
    """Half-width, lower case, and the typo table (typos.json) applied longest entry first."""

    def __init__(self, replacements: Mapping[str, str]):
        self.replacements = dict(replacements)
        alternatives = sorted(self.replacements, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, alternatives))) if alternatives else None

    @classmethod
    def from_file(cls, path: Path | str) -> Normaliser:
        with open(path, encoding="utf-8") as source:
            return cls(json.load(source)["replace"])

    def __call__(self, text: str) -> str:
        text = to_halfwidth(text).lower()
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self.replacements[match.group(0)], text)

    def masked(self, text: str, entities: Sequence[Entity], types: frozenset[str], mask: str) -> str:
        pieces, position = [], 0
        for entity in entities:
            if entity.type in types:
                pieces += [text[position : entity.start], mask]
                position = entity.end
        pieces.append(text[position:])
        return self("".join(pieces))

    def keyword_text(self, text: str, entities: Sequence[Entity]) -> str:
        """What keyword rules see: normalised, ID numbers masked as #, no spaces (patterns need no \\s*)."""
        return _SPACES.sub("", self.masked(text, entities, _MASKED_FOR_KEYWORDS, "#"))


def _features(normaliser: Normaliser, text: str, entities: Sequence[Entity]) -> Counter:
    """jieba words, single characters (typos and unknown words still share them) and character bigrams."""
    plain = normaliser.masked(text, entities, _MASKED_FOR_FEATURES, " ")
    features: Counter = Counter("@" + entity.type for entity in entities)
    for word in tokenizer.cut(plain):
        if _RUN.fullmatch(word) and word not in _STOP_WORDS:
            features["w:" + word] += 1
    for run in _RUN.findall(plain):
        for position, char in enumerate(run):
            features["c:" + char] += 1
            if position:
                features["b:" + run[position - 1 : position + 1]] += 1
    return features


# --- lexical scorer ------------------------------------------------------------------------------------------


class LexicalScorer:
    """TF-IDF cosine to each intent's centroid, blended with the cosine to its nearest training example.

    Pure Python on sparse vectors: a message has ~50 features, and both similarities are accumulated through
    inverted indexes (feature → where it occurs), so scoring touches only what the message shares with training.
    Features never seen in training still count in the message's norm (with the highest idf): a message made
    mostly of unknown words is far from everything, which is what out_of_scope needs.
    """

    def __init__(
        self,
        idf: dict[str, float],
        unseen_idf: float,
        centroid_index: dict[str, list[tuple[str, float]]],  # feature → (intent, weight in its centroid)
        example_index: dict[str, tuple[list[int], list[float]]],  # feature → (examples, weights there)
        intent_slices: dict[str, tuple[int, int]],  # examples are stored grouped by intent
        example_count: int,
    ):
        self.idf = idf
        self.unseen_idf = unseen_idf
        self.centroid_index = centroid_index
        self.example_index = example_index
        self.intent_slices = intent_slices
        self.example_count = example_count

    @classmethod
    def fit(cls, featurised: Sequence[tuple[Counter, str]]) -> LexicalScorer:
        document_frequency: Counter = Counter()
        for features, _ in featurised:
            document_frequency.update(features.keys())
        count = len(featurised)
        idf = {feature: math.log((1 + count) / (1 + df)) + 1 for feature, df in document_frequency.items()}
        unseen_idf = math.log(1 + count) + 1
        grouped = sorted(featurised, key=lambda pair: pair[1])
        sums: dict[str, Counter] = defaultdict(Counter)
        example_index: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        intent_slices: dict[str, tuple[int, int]] = {}
        for index, (features, intent) in enumerate(grouped):
            first, _ = intent_slices.get(intent, (index, index))
            intent_slices[intent] = (first, index + 1)
            vector = _unit(_tfidf(features, idf, unseen_idf))
            sums[intent].update(vector)
            for feature, weight in vector.items():
                examples, weights = example_index[feature]
                examples.append(index)
                weights.append(weight)
        centroid_index: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for intent, total in sums.items():
            for feature, weight in _unit(total).items():
                centroid_index[feature].append((intent, weight))
        return cls(idf, unseen_idf, dict(centroid_index), dict(example_index), intent_slices, count)

    def scores(self, features: Counter, nearest_weight: float) -> dict[str, float]:
        """Per intent: (1 − nearest_weight) × centroid cosine + nearest_weight × best example cosine."""
        query = _unit(_tfidf(features, self.idf, self.unseen_idf))
        known = [(feature, weight) for feature, weight in query.items() if feature in self.idf]
        centroid: dict[str, float] = dict.fromkeys(self.intent_slices, 0.0)
        similarity = [0.0] * self.example_count
        for feature, weight in known:
            for intent, centroid_weight in self.centroid_index[feature]:
                centroid[intent] += weight * centroid_weight
            examples, weights = self.example_index[feature]
            for example, example_weight in zip(examples, weights):
                similarity[example] += weight * example_weight
        return {
            intent: (1 - nearest_weight) * centroid[intent] + nearest_weight * max(similarity[first:end])
            for intent, (first, end) in self.intent_slices.items()
        }


def _tfidf(features: Mapping[str, int], idf: Mapping[str, float], unseen_idf: float) -> dict[str, float]:
    return {feature: (1 + math.log(count)) * idf.get(feature, unseen_idf) for feature, count in features.items()}


def _unit(vector: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(value * value for value in vector.values())) or 1.0
    return {feature: value / norm for feature, value in vector.items()}


# --- keyword rules -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeywordRule:
    pattern: re.Pattern
    weight: float
    requires: frozenset[str] = frozenset()


class KeywordRules:
    """Readable per-intent rules from keywords.json; an intent's score is tanh(sum of matched weights).

    A matched out_of_scope rule (another insurance, the weather...) also takes ``out_of_scope_penalty`` of its
    weight off every in-scope intent, whatever domain words the message shares with them.
    """

    def __init__(self, rules: Mapping[str, Sequence[KeywordRule]], out_of_scope_penalty: float = 0.0):
        unknown = set(rules) - set(INTENTS)
        if unknown:
            raise ValueError(f"keyword rules for unknown intents: {sorted(unknown)}")
        self.rules = rules
        self.out_of_scope_penalty = out_of_scope_penalty

    @classmethod
    def from_file(cls, path: Path | str) -> KeywordRules:
        with open(path, encoding="utf-8") as source:
            data = json.load(source)
        rules = {
            intent: [
                KeywordRule(re.compile(rule["pattern"]), float(rule["weight"]), frozenset(rule.get("requires", ())))
                for rule in intent_rules
            ]
            for intent, intent_rules in data["rules"].items()
        }
        return cls(rules, float(data.get("out_of_scope_penalty", 0.0)))

    def scores(self, text: str, entity_types: set[str]) -> dict[str, float]:
        sums = {
            intent: sum(rule.weight for rule in rules if rule.requires <= entity_types and rule.pattern.search(text))
            for intent, rules in self.rules.items()
        }
        elsewhere = max(sums.get(OUT_OF_SCOPE, 0.0), 0.0) * self.out_of_scope_penalty
        return {
            intent: math.tanh(total - (elsewhere if intent != OUT_OF_SCOPE else 0.0))
            for intent, total in sums.items()
        }
