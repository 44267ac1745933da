"""Draining the outbox to the queues."""

from backend.jobs import job
from backend.services import outbox


@job("drain_outbox", queue="high")
def drain_outbox(limit: int = 200) -> int:
    return outbox.drain(limit=limit)
