"""The service agent's desk in the console: an escalated conversation with the caller's situation beside it.

Opening a conversation is a read of personal data (the transcript and the caller's account), audited once per
opening; the polls for new messages that follow are part of the same view and are not audited again.
"""

from __future__ import annotations

from typing import Any

from backend.extensions import db
from backend.models import ChatEscalation, StaffUser
from backend.services import audit, chat, counter
from backend.services.application_workflow import unit_of_work


def open_conversation(staff: StaffUser, escalation_id: str) -> dict[str, Any]:
    """The escalation, its transcript and — for a signed-in caller — their context (masked). Audited."""
    view = chat.escalation_detail(escalation_id)
    person_id = _caller(escalation_id)
    with unit_of_work():
        audit.record_read(staff.id, "transcript", "chat_escalation", escalation_id)
    return {**view, "context": counter.caller_context(person_id) if person_id is not None else None,
            "last_message_id": max((m["id"] for m in view["transcript"]), default=0)}


def messages_after(escalation_id: str, after: int) -> dict[str, Any]:
    """Messages newer than ``after`` and the escalation's status (for the transcript's polling)."""
    view = chat.escalation_detail(escalation_id)
    fresh = [m for m in view["transcript"] if m["id"] > after]
    return {"status": view["status"], "messages": fresh,
            "last_message_id": max((m["id"] for m in fresh), default=after)}


def _caller(escalation_id: str) -> int | None:
    escalation = db.session.get(ChatEscalation, escalation_id)
    return escalation.person_id if escalation is not None else None
