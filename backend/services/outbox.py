"""The transactional outbox: write work in the caller's transaction, drain it to RQ after commit."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, g, has_request_context
from sqlalchemy import select

from backend.extensions import db, job_queue
from backend.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)


def add(job_name: str, **payload: Any) -> OutboxMessage:
    """Record work to do after the current transaction commits. Never commits by itself."""
    message = OutboxMessage(job=job_name, payload=payload)
    db.session.add(message)
    if has_request_context():
        g.outbox_written = True  # tells the after-request hook there is work to start
    return message


def drain(limit: int = 200) -> int:
    """Hand pending messages to the queues. Deterministic job ids make a second drain of the same row harmless."""
    pending = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.dispatched_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for message in pending:
        _dispatch(message)
    db.session.commit()
    return len(pending)


def _dispatch(message: OutboxMessage) -> None:
    message.attempts += 1
    try:
        job = job_queue.enqueue(message.job, dict(message.payload), job_id=f"outbox-{message.id}")
        if job.is_failed:  # synchronous mode ran it already, and it failed
            raise RuntimeError(_failure_of(job))
    except Exception as exc:  # the row stays pending and the next drain retries it
        log.warning("outbox message %s (%s) not dispatched: %s", message.id, message.job, exc)
        message.last_error = str(exc)[:500]
        return
    message.dispatched_at = utcnow()
    message.last_error = None


def _failure_of(job) -> str:
    result = job.latest_result()
    return (result.exc_string or "job failed").strip().splitlines()[-1] if result else "job failed"


def drain_after_request() -> None:
    """After a request that wrote to the outbox: synchronous mode runs the work now, else a worker drains soon.

    The request's own transaction has committed by now, so a failure here must not fail the response: the
    messages stay pending and the periodic drain retries them.
    """
    if not g.pop("outbox_written", False):
        return
    try:
        if current_app.config["JOBS_SYNCHRONOUS"]:
            drain()
        else:
            job_queue.enqueue("drain_outbox", {}, job_id="drain-outbox-soon")
    except Exception:
        db.session.rollback()
        log.exception("outbox not drained after the request; the periodic drain will retry")
