"""The types every part of the chatbot shares: a message as understood, who is asking, the state, one turn.

They live apart from the dialogue and the handlers so that neither imports the other for its types (the old
``dialogue`` ↔ ``handlers`` loop). ``State`` is plain and JSON-serialisable: the chat service keeps it in Redis
between turns as a dict.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from backend.intents.entities import Entity, extract
from backend.intents.nlu import NluResult
from backend.intents.replies import Reply
from backend.services import people
from backend.services.people import PersonFacts


@dataclass(frozen=True)
class Message:
    text: str
    entities: tuple[Entity, ...]
    nlu: NluResult | None = None  # None for a message re-read from the state (only its entities matter)

    @classmethod
    def understood(cls, nlu: NluResult) -> Message:
        return cls(nlu.text, nlu.entities, nlu)

    @classmethod
    def reread(cls, text: str, today: dt.date) -> Message:
        return cls(text, tuple(extract(text, today)))

    def values(self, entity_type: str) -> list[str]:
        return [entity.value for entity in self.entities if entity.type == entity_type]

    def first(self, entity_type: str) -> str | None:
        values = self.values(entity_type)
        return values[0] if values else None


@dataclass
class Context:
    """Who is asking and when: the signed-in person (or None) and today's date.

    The region answers use is the person's own; an anonymous person's is the one they told (``told_region``).
    The person's facts are read only when an answer needs them, so a greeting costs no query.
    """

    person_id: int | None
    today: dt.date
    told_region: str | None = None
    told_person_type: str | None = None  # an elliptical "那退休的呢" asks about another person type
    year: int | None = None  # "那去年呢": the year a personal answer is about (this year when None)
    _facts: PersonFacts | None = field(default=None, repr=False)

    @property
    def person(self) -> PersonFacts:
        if self._facts is None:
            self._facts = people.facts(self.person_id)
        return self._facts

    @property
    def region(self) -> str | None:
        if self.told_region is not None:
            return self.told_region
        return self.person.region if self.person_id is not None else None

    @region.setter
    def region(self, region: str) -> None:
        self.told_region = region

    @property
    def own_region(self) -> str | None:
        return self.person.region if self.person_id is not None else None

    @property
    def person_type(self) -> str | None:
        if self.told_person_type is not None:
            return self.told_person_type
        return self.person.person_type if self.person_id is not None else None


@dataclass
class FormState:
    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    awaiting: str | None = None
    failures: int = 0  # consecutive turns that did not move the form on
    options: list[dict] = field(default_factory=list)  # what a choice slot offers: [{"value", "label", ...}]


@dataclass
class State:
    person_id: int | None = None
    region: str | None = None  # told by an anonymous person; a signed-in person's comes from their record
    form: FormState | None = None
    offer: dict | None = None  # {"intents": [...], "text": redacted message} — a clarification on the table
    unclear: int = 0  # consecutive messages not understood (choices → rephrase → handover)
    pending: dict | None = None  # {"intent", "text"}: a policy question waiting for the region
    # The last answered question, for elliptical follow-ups ("那我妈呢？", "二级呢？"): {"intent", "text"}.
    last: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> State:
        known = {name: value for name, value in data.items() if name in cls.__dataclass_fields__}
        form = known.get("form")
        return cls(**{**known, "form": FormState(**form) if form else None})


@dataclass
class Turn:
    intent: str | None
    replies: list[Reply]
    handoff: str | None = None  # the escalation's reason when this turn hands the person over
