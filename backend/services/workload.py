"""The console's dashboard: for each of a staff member's roles, each queue's size and its oldest waiting item,
and what they hold themselves. Reads only (the chat queue closes lapsed holds first, as its own view does)."""

from __future__ import annotations

from typing import Any

from backend.models import StaffUser
from backend.services import applications, chat, monitoring

REVIEW_ROLES = {"first_reviewer", "second_reviewer", "leader"}
QUEUE_KINDS = (("reimbursement", "零星报销"), ("payout", "个人账户一次性返还"), ("chronic_cap_adjust", "慢特病限额调整"))
DASHBOARD_LIMIT = 500


def dashboard(staff: StaffUser) -> dict[str, Any]:
    roles = set(staff.roles)
    view: dict[str, Any] = {"review": None, "chat": None, "monitoring": None}
    if roles & REVIEW_ROLES:
        view["review"] = _review(staff)
    if "agent" in roles:
        view["chat"] = _chat(staff)
    if roles & {"leader", "admin"}:
        view["monitoring"] = monitoring.summary()
    return view


def _review(staff: StaffUser) -> dict[str, Any]:
    queues = []
    for kind, label in QUEUE_KINDS:
        items = applications.queue(staff, "step", kind=kind, limit=DASHBOARD_LIMIT)
        queues.append({"kind": kind, "label": label, "count": len(items), "oldest": items[0] if items else None})
    return {"queues": queues, "mine": applications.queue(staff, "mine", limit=DASHBOARD_LIMIT)}


def _chat(staff: StaffUser) -> dict[str, Any]:
    escalations = chat.escalation_queue(staff)
    waiting = [e for e in escalations if e["status"] == "waiting"]
    return {"waiting": len(waiting), "oldest": waiting[0] if waiting else None,
            "mine": [e for e in escalations if e["status"] == "claimed"]}
