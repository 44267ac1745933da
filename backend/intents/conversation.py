"""One turn of a conversation: the orchestration of the chatbot over the chat service's records.

``post_message``: find the session (the caller must own it), take its lock, read the dialogue state, and —
unless an agent holds the session — understand the message and run the dialogue, whose handlers call the
services. Then the turn is recorded by ``services.chat.record_turn``: the person's message, the bot's replies,
a lapsed hold's notice and any escalation, in one commit. While an agent is being found, every message is
acknowledged with the person's place in the queue and the expected wait. A message too long to read is answered
by the bot (what it can read and how to go on), not refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from backend.intents import dialogue, nlu, replies
from backend.intents.types import Context, Message, State, Turn
from backend.services import chat
from backend.services.benefits import local_today

# Longer messages are not understood (nor stored whole): the bot asks for a shorter question.
MAX_UNDERSTOOD_CHARS = 500


def post_message(text: str, *, person_id: int | None, session_id: str | None = None,
                 secret: str | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """One turn: ``{"session_id", "intent", "replies", "handoff"}`` (+ ``session_secret`` when anonymous)."""
    opened = chat.open_turn(session_id, person_id, secret)
    with chat.locked(opened.session_id):
        saved = chat.load_state(opened.session_id)
        state = State.from_dict(saved) if saved else State()
        state.person_id = opened.owner_id
        hold = chat.hold(opened.session_id)
        if hold.held:
            turn = Turn(None, [_acknowledgement(hold)])
            chat.record_turn(opened, text, sent=turn.replies)
            chat.save_state(opened.session_id, state.to_dict())
            return chat.turn_view(opened, None, turn.replies, handoff=True)
        try:
            turn = _respond(state, text, opened.owner_id, today or local_today())
        except Exception:
            chat.record_failed_turn(opened, _stored(text))
            raise
        chat.record_turn(opened, _stored(text), intent=turn.intent, sent=hold.notices + turn.replies,
                         handoff=turn.handoff)
        chat.save_state(opened.session_id, state.to_dict())
    return chat.turn_view(opened, turn.intent, hold.notices + turn.replies, handoff=turn.handoff is not None)


def _respond(state: State, text: str, person_id: int | None, today: dt.date) -> Turn:
    if len(text) > MAX_UNDERSTOOD_CHARS:
        return Turn(None, [replies.text(replies.TOO_LONG.format(length=len(text), limit=MAX_UNDERSTOOD_CHARS))])
    ctx = Context(person_id, today, told_region=state.region)
    return dialogue.respond(state, Message.understood(nlu.understand(text, today)), ctx)


def _acknowledgement(hold: chat.Hold) -> dict:
    if hold.claimed:
        return replies.text(replies.AGENT_WILL_READ)
    if hold.ahead == 0:
        return replies.text(replies.WAITING_FIRST_IN_LINE)
    return replies.text(replies.WAITING_FOR_AGENT.format(ahead=hold.ahead, minutes=hold.expected_minutes))


def _stored(text: str) -> str:
    """What the transcript keeps of a message: all of it, up to the length the bot reads."""
    return text if len(text) <= MAX_UNDERSTOOD_CHARS else text[:MAX_UNDERSTOOD_CHARS] + "…"
