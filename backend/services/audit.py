"""Audit records, written in the caller's transaction (never committing), and the audit log read by administrators.

Reads of personal data are audited too (``record_read``): a case opened, an attachment or 承诺书 viewed, a chat
transcript opened, a person's page at the counter, a full ID number revealed. Their actions start with ``read.``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, or_, select

from backend.domain.identity import redact_id_numbers
from backend.extensions import db
from backend.models import AuditLog, StaffUser

# The audit-log page's "what" filter: a label per family of actions (prefix match when it ends with a dot).
ACTION_GROUPS = {
    "decisions": ("审核决定", ("application.decided", "application.claimed", "application.released")),
    "grants": ("家庭共济授权", ("sharing.",)),
    "logins": ("登录与退出", ("staff.login", "staff.logout")),
    "failed_logins": ("登录失败", ("staff.login_failed",)),
    "policy": ("政策变更", ("policy_version_added",)),
    "reads": ("查看个人信息", ("read.",)),
    "staff_admin": ("账号管理", ("staff.created", "staff.roles_changed", "staff.deactivated", "staff.reactivated",
                               "staff.password_reset", "staff.renamed")),
    "monitoring": ("智能监控", ("monitoring.",)),
    "chat": ("人工客服", ("chat.",)),
    "accounts": ("个人账户", ("account.",)),
}
MAX_PAGE_SIZE = 200


def record(actor_kind: str, actor_id: object, action: str, object_type: str, object_id: object,
           **details: Any) -> None:
    db.session.add(AuditLog(
        actor_kind=actor_kind,
        actor_id=str(actor_id),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=_redacted(details),
    ))


def record_read(staff_id: int, what: str, object_type: str, object_id: object, **details: Any) -> None:
    """A member of staff looked at personal data (``read.<what>``). Part of the caller's transaction."""
    record("staff", staff_id, f"read.{what}", object_type, object_id, **details)


def search(*, actor: str | None = None, group: str | None = None, action: str | None = None,
           object_type: str | None = None, object_id: str | None = None, since: dt.datetime | None = None,
           until: dt.datetime | None = None, page: int = 1, page_size: int = 50) -> dict[str, Any]:
    """Audit entries, newest first, filtered by who (staff username or actor id), what (a group or an action),
    which object and when (``since`` inclusive, ``until`` exclusive)."""
    page, page_size = max(1, page), max(1, min(page_size, MAX_PAGE_SIZE))
    query = select(AuditLog)
    if actor:
        query = query.where(_actor_condition(actor.strip()))
    if group:
        query = query.where(or_(*(_action_condition(a) for a in ACTION_GROUPS[group][1])))
    if action:
        query = query.where(_action_condition(action.strip()))
    if object_type:
        query = query.where(AuditLog.object_type == object_type.strip())
    if object_id:
        query = query.where(AuditLog.object_id == object_id.strip())
    if since:
        query = query.where(AuditLog.created_at >= since)
    if until:
        query = query.where(AuditLog.created_at < until)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
                              .offset((page - 1) * page_size).limit(page_size)).all()
    names = _staff_names({row.actor_id for row in rows if row.actor_kind == "staff"})
    return {"items": [_entry_view(row, names) for row in rows], "total": total, "page": page,
            "page_size": page_size}


def _actor_condition(actor: str):
    staff_id = db.session.scalar(select(StaffUser.id).where(StaffUser.username == actor))
    if staff_id is not None:
        return (AuditLog.actor_kind == "staff") & (AuditLog.actor_id == str(staff_id))
    # A failed sign-in has no staff behind it: the username tried is its object.
    return or_(AuditLog.actor_id == actor,
               (AuditLog.object_type == "staff_username") & (AuditLog.object_id == actor))


def _action_condition(action: str):
    return AuditLog.action.startswith(action, autoescape=True) if action.endswith(".") else AuditLog.action == action


def _staff_names(ids: set[str]) -> dict[str, str]:
    numeric = [int(i) for i in ids if i.isdigit()]
    if not numeric:
        return {}
    return {str(row.id): row.username for row in db.session.execute(
        select(StaffUser.id, StaffUser.username).where(StaffUser.id.in_(numeric)))}


def _entry_view(row: AuditLog, names: dict[str, str]) -> dict[str, Any]:
    return {"id": row.id, "created_at": row.created_at, "actor_kind": row.actor_kind, "actor_id": row.actor_id,
            "actor": names.get(row.actor_id, row.actor_id) if row.actor_kind == "staff" else row.actor_id,
            "action": row.action, "object_type": row.object_type, "object_id": row.object_id,
            "details": row.details or {}}


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_id_numbers(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value
