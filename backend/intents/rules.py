"""Keyword rules per intent (``data/keywords.json``): readable regular expressions with weights.

An intent's rule score is tanh(sum of the weights of its rules that match), in −1..1; the NLU adds it, weighted,
to the statistical model's evidence. A matched out_of_scope rule (another insurance, the weather...) also takes
``out_of_scope_penalty`` of its weight off every in-scope intent, whatever domain words the message shares.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from backend.intents.catalogue import INTENTS, OUT_OF_SCOPE

KEYWORDS_FILE = Path(__file__).parent / "data" / "keywords.json"


@dataclass(frozen=True)
class KeywordRule:
    pattern: re.Pattern
    weight: float
    requires: frozenset[str] = frozenset()


class KeywordRules:
    def __init__(self, rules: Mapping[str, Sequence[KeywordRule]], out_of_scope_penalty: float = 0.0,
                 intents: Sequence[str] = INTENTS):
        unknown = set(rules) - set(intents)
        if unknown:
            raise ValueError(f"keyword rules for unknown intents: {sorted(unknown)}")
        self.rules = rules
        self.out_of_scope_penalty = out_of_scope_penalty

    @classmethod
    def from_file(cls, path: Path | str = KEYWORDS_FILE, intents: Sequence[str] = INTENTS) -> KeywordRules:
        with open(path, encoding="utf-8") as source:
            data = json.load(source)
        rules = {
            intent: [
                KeywordRule(re.compile(rule["pattern"]), float(rule["weight"]), frozenset(rule.get("requires", ())))
                for rule in intent_rules
            ]
            for intent, intent_rules in data["rules"].items()
        }
        return cls(rules, float(data.get("out_of_scope_penalty", 0.0)), intents)

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
