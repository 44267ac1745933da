"""Periodic clean-up; safe to run any number of times."""

from backend.jobs import job
from backend.services import idempotency


@job("purge_idempotency_records", queue="low")
def purge_idempotency_records() -> int:
    return idempotency.purge_expired()
