"""The chat's records: sessions and who owns them, the transcript, dialogue state, and escalations to agents.

The conversation itself (understanding, the dialogue, the handlers) is the chatbot's, in ``backend.intents``
(``conversation.post_message``), which calls this module — never the other way round. One turn writes once:
``record_turn`` adds the person's message, the bot's replies, a lapsed hold's notice and a new escalation, and
commits them together (the actions a turn performs, such as a grant, are their own use cases).

While an escalation is waiting or claimed the bot does not answer the question: it acknowledges the message with
the person's place in the queue (``hold``), and the agent reads it. The hold ends when the agent closes the
escalation, or lapses CHAT_HUMAN_TIMEOUT_SECONDS after the agent's last action (created, claimed, replied);
either way a line in the transcript tells the person, and the bot answers again.

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

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select, update

from backend.domain.identity import mask_id_number, redact_id_numbers
from backend.errors import Conflict, NotFound, Unauthorized
from backend.extensions import db
from backend.models import ChatEscalation, ChatMessage, StaffUser, new_public_id, utcnow
from backend.models.chat import ChatSession
from backend.services import audit, chat_sessions, people

OPEN_STATUSES = ("waiting", "claimed")
# What the person reads when the hold ends (the chatbot's own wording lives in backend.intents.replies).
HUMAN_TIMED_OUT = "人工客服暂时没有回复，我先继续为您服务；需要人工时可再次回复「转人工」。"
HUMAN_CLOSED = "人工客服已结束本次服务。还有问题可以继续问我。"
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


@dataclass(frozen=True)
class Opened:
    session_id: str
    owner_id: int | None
    is_new: bool


def open_turn(session_id: str | None, person_id: int | None, secret: str | None) -> Opened:
    """The session a message belongs to: a new one, or an existing one the caller owns (404 otherwise)."""
    if session_id is None:
        return Opened(new_public_id("CS"), person_id, True)
    session = _owned(session_id, person_id, secret)
    # Signed in after the sign-in card: the anonymous session becomes theirs.
    return Opened(session_id, session.person_id or person_id, False)


locked = chat_sessions.locked
load_state = chat_sessions.load
save_state = chat_sessions.save


@dataclass(frozen=True)
class Hold:
    """Whether an agent holds the session, the notice of a hold that just lapsed, and the queue position."""

    held: bool
    notices: list[dict] = field(default_factory=list)
    claimed: bool = False
    ahead: int = 0  # waiting escalations older than this one
    expected_minutes: int = 0


def hold(session_id: str) -> Hold:
    """The session's human hold (a lapsed one is closed, not yet committed: ``record_turn`` commits)."""
    escalation = _open_escalation(session_id)
    if escalation is None:
        return Hold(False)
    if _lapsed(escalation):
        return Hold(False, [_close(escalation, "timeout")])
    if escalation.status == "claimed":
        return Hold(True, claimed=True)
    ahead = db.session.scalar(select(func.count()).select_from(ChatEscalation).where(
        ChatEscalation.status == "waiting", ChatEscalation.created_at < escalation.created_at)) or 0
    per_person = current_app.config["CHAT_MINUTES_PER_WAITING_PERSON"]
    return Hold(True, ahead=ahead, expected_minutes=max(1, (ahead + 1) * per_person))


def record_turn(opened: Opened, text: str, *, intent: str | None = None, sent: Sequence[dict] = (),
                handoff: str | None = None) -> None:
    """The turn in the transcript (+ the escalation it opens), in one commit after the dialogue's services."""
    now = utcnow()
    if opened.is_new:
        db.session.add(ChatSession(id=opened.session_id, person_id=opened.owner_id, created_at=now,
                                   last_message_at=now))
    else:
        db.session.execute(update(ChatSession).where(ChatSession.id == opened.session_id)
                           .values(person_id=opened.owner_id, last_message_at=now))
    db.session.add(_message(opened.session_id, opened.owner_id, "user", text, intent=intent))
    for reply in sent:
        db.session.add(_message(opened.session_id, opened.owner_id, "bot", transcript_text(reply),
                                intent=intent, payload=reply))
    if handoff is not None:
        _escalate(opened.session_id, opened.owner_id, handoff)
    db.session.commit()


def record_failed_turn(opened: Opened, text: str) -> None:
    """A turn that failed: whatever it half-did is rolled back, the person's words stay on record for agents."""
    db.session.rollback()
    record_turn(opened, text)


def transcript_text(reply: dict) -> str:
    """One line of the stored transcript: what the person saw, choices numbered (agents read this)."""
    body = reply.get("text", "")
    if reply.get("type") == "choices":
        body += "".join(f"\n{number}. {option['label']}" for number, option in enumerate(reply["choices"], 1))
    if reply.get("type") == "card":
        body = f"[{reply.get('title', '')}] {body}"
    return body


def turn_view(opened: Opened, intent: str | None, sent: list, *, handoff: bool) -> dict[str, Any]:
    view = {"session_id": opened.session_id, "intent": intent, "replies": sent, "handoff": handoff}
    if opened.owner_id is None:
        view["session_secret"] = session_secret(opened.session_id)
    return view


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
    notice = {"type": "text", "text": HUMAN_TIMED_OUT if reason == "timeout" else HUMAN_CLOSED}
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
