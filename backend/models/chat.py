"""Chat sessions, transcripts (ID numbers redacted before storing) and escalations to service agents."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, JsonDocument, UtcDateTime, utcnow

ESCALATION_STATUSES = ("waiting", "claimed", "closed")
ESCALATION_CLOSE_REASONS = ("agent", "timeout")


class ChatSession(Base):
    """Who owns a conversation. The dialogue state lives in Redis (30 min idle); ownership outlives it, so the
    transcript stays readable by its owner only. ``person_id`` is None for an anonymous session, whose owner
    proves itself with the session secret (derived from the id, never stored)."""

    __tablename__ = "chat_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_message_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_session_id", "session_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    sender: Mapped[str] = mapped_column(String(8))  # user | bot | agent
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    text: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(48))
    # A bot reply as the client received it (choices, cards), so a reloaded conversation looks the same.
    payload: Mapped[dict | None] = mapped_column(JsonDocument)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class ChatEscalation(Base):
    __tablename__ = "chat_escalations"
    __table_args__ = (Index("ix_chat_escalations_status", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reason: Mapped[str] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    claimed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    # Created, claimed, or the agent's latest reply: the human hold lapses CHAT_HUMAN_TIMEOUT_SECONDS after it.
    last_agent_activity_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_reason: Mapped[str | None] = mapped_column(String(16))  # agent | timeout
