"""Periodic jobs as data, registered with RQ's CronScheduler by `flask --app wsgi scheduler`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Periodic:
    job_name: str
    interval_seconds: int | None = None
    cron: str | None = None  # UTC
    kwargs: tuple[tuple[str, object], ...] = ()


SCHEDULE: tuple[Periodic, ...] = (
    # The outbox is also drained right after each request that wrote to it; this catches what a crash left.
    Periodic("drain_outbox", interval_seconds=15),
    # A job whose worker died mid-job goes back to its queue (backend.jobs.recovery).
    Periodic("recover_abandoned_jobs", interval_seconds=15),
    Periodic("purge_idempotency_records", cron="17 3 * * *"),
    # Daily after the nightly import (03:30 Beijing = 19:30 UTC): credits the previous and the current month.
    Periodic("allocate_credits", cron="30 19 * * *"),
    # Smart monitoring (NX §33) after the night's settlements and refunds: 04:10 Beijing = 20:10 UTC.
    Periodic("monitoring_scan", cron="10 20 * * *"),
)
