"""What the operators' metrics read at scrape time: the outbox backlog and the RQ queues.

Read-only and cheap (an indexed count, a few Redis calls), so a scrape every 15 seconds costs nothing noticeable.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from backend.extensions import db, job_queue
from backend.models import OutboxMessage, utcnow


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int
    oldest_age_seconds: float  # 0 when nothing is pending


@dataclass(frozen=True)
class QueueState:
    name: str
    waiting: int
    started: int
    failed: int


def outbox_backlog() -> OutboxBacklog:
    pending, oldest = db.session.execute(
        select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.dispatched_at.is_(None))
    ).one()
    db.session.rollback()  # a read: end the transaction so the pooled connection goes back clean
    age = max((utcnow() - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return OutboxBacklog(pending=pending, oldest_age_seconds=age)


def queue_states() -> list[QueueState]:
    states = []
    for name in job_queue.names:
        queue = job_queue.queue(name)
        states.append(QueueState(name=name, waiting=queue.count, started=queue.started_job_registry.count,
                                 failed=queue.failed_job_registry.count))
    return states
