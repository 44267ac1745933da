"""Stored responses for the Idempotency-Key header (DESIGN §2).

Same key + same body → the stored response; same key + another body → 422; a duplicate arriving while the first
is still running → 409. A record left "in progress" by a crashed request is taken over after a lock timeout.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from backend.errors import Conflict, Unprocessable
from backend.extensions import db
from backend.models import IdempotencyRecord, utcnow


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str


def begin(scope: str, key: str, request_hash: str) -> StoredResponse | None:
    """Claim the key for this request, or return the response stored for an earlier identical one."""
    db.session.add(IdempotencyRecord(scope=scope, key=key, request_hash=request_hash))
    try:
        db.session.commit()
        return None
    except IntegrityError:
        db.session.rollback()
    return _existing(scope, key, request_hash)


def _existing(scope: str, key: str, request_hash: str) -> StoredResponse | None:
    record = db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .with_for_update()
    )
    if record is None:  # purged between our insert and this read: try once more from the start
        return begin(scope, key, request_hash)
    if record.request_hash != request_hash:
        db.session.rollback()
        raise Unprocessable("该幂等键已用于另一个不同的请求", reason="idempotency_key_reused")
    if record.state == "done":
        stored = StoredResponse(record.response_status or 200, record.response_body or "")
        db.session.rollback()
        return stored
    if record.locked_at > utcnow() - dt.timedelta(seconds=current_app.config["IDEMPOTENCY_LOCK_SECONDS"]):
        db.session.rollback()
        raise Conflict("相同的请求正在处理中，请稍后再试", reason="idempotency_request_in_progress")
    record.locked_at = utcnow()  # the earlier attempt died mid-way: this request takes over
    db.session.commit()
    return None


def complete(scope: str, key: str, status: int, body: str) -> None:
    record = db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
    if record is not None:
        record.state, record.response_status, record.response_body = "done", status, body
    db.session.commit()


def abandon(scope: str, key: str) -> None:
    """A server error stores nothing, so the client may retry with the same key."""
    db.session.rollback()
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key, IdempotencyRecord.state == "in_progress"
        )
    )
    db.session.commit()


def purge_expired() -> int:
    cutoff = utcnow() - dt.timedelta(seconds=current_app.config["IDEMPOTENCY_TTL_SECONDS"])
    result = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    db.session.commit()
    return result.rowcount or 0
