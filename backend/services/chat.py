"""The chatbot as a use case: one turn of a conversation, its transcript, and escalations to service agents.

One turn (``post_message``): check who owns the session, take the session's lock, load the dialogue state from
Redis and — unless an agent holds the session — understand the message and run the dialogue (whose handlers call
the other services, some of which commit). Then the person's message and the bot's replies are written to the
transcript (ID numbers masked) in one commit, after the services, so no rollback of theirs can lose them; a turn
that fails still leaves the person's message on record. Last, the state is saved and the lock released.

While an escalation is waiting or claimed the bot stays quiet: messages are stored for the agent, whose replies
appear in the same transcript (``messages(..., after=)``). The hold ends when the agent closes the escalation, or
lapses CHAT_HUMAN_TIMEOUT_SECONDS after the agent's last action (created, claimed, replied); either way a line in
the transcript tells the person, and the bot answers again.

Ownership: a session started by a signed-in person is theirs alone; an anonymous session is proved with the
session secret returned with every reply (an HMAC of the id, never stored). An anonymous session continued by
a signed-in person (after the sign-in card) becomes theirs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from backend.domain.identity import mask_id_number, redact_id_numbers
from backend.errors import Conflict, NotFound, Unauthorized
from backend.extensions import db
from backend.intents import dialogue, nlu, replies, sessions
from backend.intents.dialogue import Message, State
from backend.intents.handlers import Context
from backend.models import ChatEscalation, ChatMessage, StaffUser, new_public_id, utcnow
from backend.models.chat import ChatSession
from backend.services import audit, people
from backend.services.benefits import local_today

OPEN_STATUSES = ("waiting", "claimed")
MESSAGE_PAGE = 200
# Digit runs of near-ID length (a mistyped ID number is still someone's): masked too, not only valid-shaped ones.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{14,17}[\dXx]?(?![0-9A-Za-z])")


def redact(text: str) -> str:
    """What may be stored of a message: every ID-number-like run masked (first 6 + last 4)."""
    return _ID_LIKE.sub(lambda match: mask_id_number(match.group(0).upper()), redact_id_numbers(text))


def session_secret(session_id: str) -> str:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"chat-session:{session_id}".encode(),
                      hashlib.sha256)
    return digest.hexdigest()[:32]


# --- the person's side ---------------------------------------------------------------------------------------


def post_message(text: str, *, person_id: int | None, session_id: str | None = None,
                 secret: str | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """One turn: ``{"session_id", "intent", "replies", "handoff"}`` (+ ``session_secret`` when anonymous)."""
    is_new = session_id is None
    if is_new:
        session_id, owner_id = new_public_id("CS"), person_id
    else:
        session = _owned(session_id, person_id, secret)
        owner_id = session.person_id or person_id  # signed in after the sign-in card: the session becomes theirs
    with sessions.locked(session_id):
        state = sessions.load(session_id) or State()
        state.person_id = owner_id
        lead, held = _human_hold(session_id)
        if held:  # an agent holds the session: the bot stays quiet, the agent reads the message
            _record(session_id, owner_id, is_new, text)
            db.session.commit()
            sessions.save(session_id, state)
            return _turn_view(session_id, owner_id, None, [], handoff=True)
        try:
            understood, turn = _respond(session_id, owner_id, state, text, today or local_today())
        except Exception:
            db.session.rollback()
            _record(session_id, owner_id, is_new, text)  # the words stay on record for the agents
            db.session.commit()
            raise
        _record(session_id, owner_id, is_new, text, understood.intent, turn)
        db.session.commit()
        sessions.save(session_id, state)
    return _turn_view(session_id, owner_id, turn.intent, lead + turn.replies, handoff=turn.handoff is not None)


def _respond(session_id: str, owner_id: int | None, state: State, text: str,
             today: dt.date) -> tuple[nlu.NluResult, dialogue.Turn]:
    understood = nlu.understand(text, today)
    ctx = Context(owner_id, today, told_region=state.region)
    turn = dialogue.respond(state, Message.understood(understood), ctx)
    if turn.handoff is not None:
        _escalate(session_id, owner_id, turn.handoff)
    return understood, turn


def _human_hold(session_id: str) -> tuple[list, bool]:
    """(a notice if a hold just lapsed, whether an agent still holds the session)."""
    escalation = _open_escalation(session_id)
    if escalation is None:
        return [], False
    if _lapsed(escalation):
        notice = _close(escalation, "timeout")
        db.session.commit()
        return [notice], False
    return [], True


def _record(session_id: str, owner_id: int | None, is_new: bool, text: str, intent: str | None = None,
            turn: dialogue.Turn | None = None) -> None:
    """The turn in the transcript, written after the services so that no rollback of theirs can lose it."""
    now = utcnow()
    if is_new:
        db.session.add(ChatSession(id=session_id, person_id=owner_id, created_at=now, last_message_at=now))
    else:
        db.session.execute(update(ChatSession).where(ChatSession.id == session_id)
                           .values(person_id=owner_id, last_message_at=now))
    db.session.add(_message(session_id, owner_id, "user", text, intent=intent))
    for reply in turn.replies if turn else ():
        db.session.add(_message(session_id, owner_id, "bot", replies.as_transcript_text(reply),
                                intent=turn.intent, payload=reply))


def messages(session_id: str, *, person_id: int | None, secret: str | None, after: int | None = None) -> dict:
    """The transcript after message ``after`` (agents' replies included), for the session's owner only."""
    session = _owned(session_id, person_id, secret)
    escalation = _open_escalation(session.id)
    if escalation is not None and _lapsed(escalation):
        _close(escalation, "timeout")
        escalation = None
    db.session.commit()
    query = select(ChatMessage).where(ChatMessage.session_id == session.id)
    if after is not None:
        query = query.where(ChatMessage.id > after)
    rows = db.session.scalars(query.order_by(ChatMessage.id).limit(MESSAGE_PAGE))
    return {"session_id": session.id, "handoff": escalation is not None,
            "escalation_status": escalation.status if escalation else None,
            "messages": [_message_view(row) for row in rows]}


def _owned(session_id: str, person_id: int | None, secret: str | None) -> ChatSession:
    session = db.session.get(ChatSession, session_id)
    if session is None:
        raise _session_not_found()
    if session.person_id is not None:
        if person_id is None:
            raise Unauthorized("请先登录", reason="token_missing")
        if person_id != session.person_id:
            raise _session_not_found()  # someone else's conversation: as if it did not exist
        return session
    if not secret or not hmac.compare_digest(secret, session_secret(session.id)):
        raise _session_not_found()
    return session


def _session_not_found() -> NotFound:
    return NotFound("未找到该会话", reason="chat_session_not_found")


def _message(session_id: str, person_id: int | None, sender: str, text: str, *, intent: str | None = None,
             staff_id: int | None = None, payload: dict | None = None) -> ChatMessage:
    return ChatMessage(session_id=session_id, person_id=person_id, sender=sender, staff_id=staff_id,
                       text=redact(text), intent=intent, payload=_redacted_payload(payload), created_at=utcnow())


def _redacted_payload(value: Any) -> Any:
    """A reply as stored: every string in it (choice labels too) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted_payload(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted_payload(item) for item in value]
    return value


def _turn_view(session_id: str, owner_id: int | None, intent: str | None, sent: list, *,
               handoff: bool) -> dict[str, Any]:
    view = {"session_id": session_id, "intent": intent, "replies": sent, "handoff": handoff}
    if owner_id is None:
        view["session_secret"] = session_secret(session_id)
    return view


def _message_view(row: ChatMessage) -> dict[str, Any]:
    return {"id": row.id, "sender": row.sender, "text": row.text, "intent": row.intent,
            "reply": row.payload, "created_at": row.created_at}


# --- escalations ---------------------------------------------------------------------------------------------


def _open_escalation(session_id: str) -> ChatEscalation | None:
    return db.session.scalar(select(ChatEscalation).where(ChatEscalation.session_id == session_id,
                                                          ChatEscalation.status.in_(OPEN_STATUSES))
                             .order_by(ChatEscalation.created_at.desc()).limit(1))


def _escalate(session_id: str, person_id: int | None, reason: str) -> ChatEscalation:
    now = utcnow()
    escalation = ChatEscalation(id=new_public_id("CE"), session_id=session_id, person_id=person_id,
                                reason=reason, status="waiting", created_at=now, last_agent_activity_at=now)
    db.session.add(escalation)
    return escalation


def _timeout() -> dt.timedelta:
    return dt.timedelta(seconds=current_app.config["CHAT_HUMAN_TIMEOUT_SECONDS"])


def _lapsed(escalation: ChatEscalation, now: dt.datetime | None = None) -> bool:
    last = escalation.last_agent_activity_at or escalation.created_at
    return (now or utcnow()) - last >= _timeout()


def _close(escalation: ChatEscalation, reason: str, staff_id: int | None = None) -> dict:
    """End the human hold; the person reads why in the transcript. Returns that line as a reply (no commit)."""
    escalation.status, escalation.closed_at, escalation.closed_reason = "closed", utcnow(), reason
    notice = replies.text(replies.HUMAN_TIMED_OUT if reason == "timeout" else replies.HUMAN_CLOSED)
    db.session.add(_message(escalation.session_id, escalation.person_id, "bot", notice["text"], payload=notice))
    audit.record("staff" if staff_id else "system", staff_id or "chat", "chat.escalation_closed", "chat_escalation",
                 escalation.id, reason=reason)
    return notice


def _expire_lapsed() -> None:
    cutoff = utcnow() - _timeout()
    for escalation in db.session.scalars(select(ChatEscalation).where(
            ChatEscalation.status.in_(OPEN_STATUSES), ChatEscalation.last_agent_activity_at <= cutoff)):
        _close(escalation, "timeout")


def escalation_queue(staff: StaffUser) -> list[dict[str, Any]]:
    """Waiting escalations (oldest first) and those this agent holds; lapsed holds are closed first."""
    _expire_lapsed()
    db.session.commit()
    rows = db.session.scalars(
        select(ChatEscalation)
        .where((ChatEscalation.status == "waiting")
               | ((ChatEscalation.status == "claimed") & (ChatEscalation.claimed_by_staff_id == staff.id)))
        .order_by(ChatEscalation.created_at)
    )
    return [_escalation_view(row) for row in rows]


def escalation_detail(escalation_id: str) -> dict[str, Any]:
    """The escalation with the whole transcript of its session (ID numbers already masked when stored)."""
    escalation = _escalation(escalation_id)
    rows = db.session.scalars(select(ChatMessage).where(ChatMessage.session_id == escalation.session_id)
                              .order_by(ChatMessage.id))
    return {**_escalation_view(escalation), "transcript": [_message_view(row) for row in rows]}


def claim(escalation_id: str, staff: StaffUser) -> dict[str, Any]:
    """Take a waiting escalation; two agents claiming at once: one wins, the other gets 409."""
    escalation = _escalation(escalation_id)
    if escalation.status == "waiting" and _lapsed(escalation):
        _close(escalation, "timeout")
        db.session.commit()
    now = utcnow()
    claimed = db.session.execute(
        update(ChatEscalation)
        .where(ChatEscalation.id == escalation_id, ChatEscalation.status == "waiting")
        .values(status="claimed", claimed_by_staff_id=staff.id, claimed_at=now, last_agent_activity_at=now)
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise Conflict("该会话已被领取或已结束", reason="escalation_not_waiting")
    audit.record("staff", staff.id, "chat.escalation_claimed", "chat_escalation", escalation_id)
    db.session.commit()
    db.session.refresh(escalation)
    return escalation_detail(escalation_id)


def reply(escalation_id: str, staff: StaffUser, text: str) -> dict[str, Any]:
    """The agent's message, shown in the person's session; it also renews the hold."""
    escalation = _held_by(escalation_id, staff)
    message = _message(escalation.session_id, escalation.person_id, "agent", text, staff_id=staff.id)
    db.session.add(message)
    escalation.last_agent_activity_at = utcnow()
    audit.record("staff", staff.id, "chat.agent_reply", "chat_escalation", escalation.id)
    db.session.commit()
    return _message_view(message)


def close(escalation_id: str, staff: StaffUser) -> dict[str, Any]:
    """End the hold (the claiming agent, or any agent for a waiting one): the bot answers again."""
    escalation = _escalation(escalation_id)
    if escalation.status == "claimed":
        escalation = _held_by(escalation_id, staff)
    elif escalation.status != "waiting":
        raise Conflict("该会话已结束", reason="escalation_closed")
    _close(escalation, "agent", staff.id)
    db.session.commit()
    return _escalation_view(escalation)


def _escalation(escalation_id: str) -> ChatEscalation:
    escalation = db.session.get(ChatEscalation, escalation_id)
    if escalation is None:
        raise NotFound("未找到该转人工记录", reason="escalation_not_found")
    return escalation


def _held_by(escalation_id: str, staff: StaffUser) -> ChatEscalation:
    escalation = _escalation(escalation_id)
    if escalation.status == "claimed" and _lapsed(escalation):
        _close(escalation, "timeout")
        db.session.commit()
    if escalation.status != "claimed":
        raise Conflict("请先领取该会话，或该会话已结束", reason="escalation_not_claimed")
    if escalation.claimed_by_staff_id != staff.id:
        raise Conflict("该会话已由其他客服领取", reason="escalation_claimed_by_other")
    return escalation


def _escalation_view(escalation: ChatEscalation) -> dict[str, Any]:
    person = people.get(escalation.person_id) if escalation.person_id is not None else None
    agent = db.session.get(StaffUser, escalation.claimed_by_staff_id) if escalation.claimed_by_staff_id else None
    return {
        "escalation_id": escalation.id,
        "session_id": escalation.session_id,
        "status": escalation.status,
        "reason": escalation.reason,
        "person": people.summary(person) if person else None,
        "claimed_by": agent.username if agent else None,
        "created_at": escalation.created_at,
        "claimed_at": escalation.claimed_at,
        "closed_at": escalation.closed_at,
        "closed_reason": escalation.closed_reason,
    }
