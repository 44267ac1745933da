"""The conversation stories of tests/intents/data/stories.md, each a test, run against the README's demo data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from backend import demo
from backend.extensions import db
from backend.intents import conversation
from backend.services import people, policies, sharing
from tests.conftest import build_app, isolation, reset_app_state

STORIES_FILE = Path(__file__).parent / "data" / "stories.md"
DEMO_PEOPLE = {  # name → ID number (README, demo data)
    "张伟": "640104198506120314", "李娜": "640106198709150428", "张建国": "640104195803150014",
    "王秀兰": "640106196008220025", "张小雨": "640104200804010025", "马海": "640302196201090512",
    "王芳": "640102199002280623", "刘强": "150102198203050313", "赵敏": "150105198407110428",
    "孙秀英": "150102195506180023", "巴特尔": "150105198809230713", "乌云": "150102195702120423",
    "高磊": "150104199211300519",
}
ACTIONS = {"grant", "revoke", "handoff", "none"}


@dataclass
class Step:
    text: str
    intent: str | None = None
    action: str | None = None
    says: list[str] = field(default_factory=list)
    not_says: list[str] = field(default_factory=list)


@dataclass
class Story:
    title: str
    speaker: str = "anonymous"
    steps: list[Step] = field(default_factory=list)


def parse_stories(source: str) -> list[Story]:
    stories: list[Story] = []
    for line in source.splitlines():
        if line.startswith("## "):
            stories.append(Story(line[3:].strip()))
        elif not stories or not line.strip():
            continue
        elif line.startswith("as:"):
            stories[-1].speaker = line[3:].strip()
        elif line.startswith("> "):
            stories[-1].steps.append(Step(line[2:].strip()))
        else:
            _expectation(stories[-1].steps[-1], line.strip())
    return stories


def _expectation(step: Step, line: str) -> None:
    key, _, value = line.partition(":")
    value = value.strip()
    if key == "intent":
        step.intent = value
    elif key == "action":
        assert value in ACTIONS, f"unknown action {value!r}"
        step.action = value
    elif key == "says":
        step.says = [piece.strip() for piece in value.split("|")]
    elif key == "not":
        step.not_says = [piece.strip() for piece in value.split("|")]
    else:
        raise ValueError(f"unknown story line: {line!r}")


STORIES = parse_stories(STORIES_FILE.read_text(encoding="utf-8"))


def test_the_stories_file_covers_at_least_eighty_conversations():
    assert len(STORIES) >= 80
    assert len({story.title for story in STORIES}) == len(STORIES)
    assert all(story.steps for story in STORIES)


@pytest.fixture(scope="module")
def demo_app(migrated_database, shared_app):
    # The demo is committed for real (the module's stories share it) and every table emptied afterwards, so
    # nothing of it reaches the modules that run later.
    app = build_app(migrated_database)
    with isolation(shared_app, real_commits=True), app.app_context():
        policies.load_shipped()
        demo.seed()
        yield app
        reset_app_state(app)


def _active_given(person_id: int | None) -> int:
    return len(sharing.list_grants(person_id, "given", status="active")) if person_id else 0


def _text(turn: dict) -> str:
    lines = []
    for reply in turn["replies"]:
        lines.append(reply.get("text", ""))
        lines += [choice["label"] for choice in reply.get("choices", ())]
    return "\n".join(lines)


@pytest.mark.parametrize("story", STORIES, ids=[re.sub(r"\s+", "_", story.title) for story in STORIES])
def test_story(demo_app, story: Story):
    person_id = None if story.speaker == "anonymous" else people.by_id_number(DEMO_PEOPLE[story.speaker]).id
    session_id = secret = None
    for number, step in enumerate(story.steps, 1):
        before = _active_given(person_id)
        turn = conversation.post_message(step.text, person_id=person_id, session_id=session_id, secret=secret)
        session_id, secret = turn["session_id"], turn.get("session_secret")
        db.session.remove()
        said, where = _text(turn), f"turn {number} ({step.text[:20]!r})"
        if step.intent is not None:
            assert turn["intent"] == step.intent, f"{where}: intent {turn['intent']}, replies: {said}"
        for piece in step.says:
            assert piece in said, f"{where}: {piece!r} not in: {said}"
        for piece in step.not_says:
            assert piece not in said, f"{where}: {piece!r} in: {said}"
        if step.action is not None:
            after = _active_given(person_id)
            done = ("grant" if after > before else "revoke" if after < before
                    else "handoff" if turn["handoff"] else "none")
            assert done == step.action, f"{where}: {done} instead of {step.action}; replies: {said}"
