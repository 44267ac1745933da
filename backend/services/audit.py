"""Audit records, written in the caller's transaction (never committing)."""

from __future__ import annotations

from typing import Any

from backend.domain.identity import redact_id_numbers
from backend.extensions import db
from backend.models import AuditLog


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


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_id_numbers(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value
