"""Enqueueing to RQ, or running at once when JOBS_SYNCHRONOUS (the embedded default has no worker)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from rq import Queue, Retry

from backend.observability.request_id import current_request_id

QUEUES = ("high", "default", "low")


class JobQueue:
    names = QUEUES

    def init_app(self, app: Flask) -> None:
        app.extensions["job_queue"] = self

    def queue(self, name: str) -> Queue:
        connection = current_app.extensions["redis"]
        return Queue(name, connection=connection, is_async=not current_app.config["JOBS_SYNCHRONOUS"])

    def enqueue(self, job_name: str, kwargs: dict[str, Any], job_id: str | None = None):
        """Enqueue a registered job by name. A deterministic ``job_id`` keeps a second enqueue harmless."""
        from backend.jobs import REGISTRY, load_all_jobs

        if job_name not in REGISTRY:
            load_all_jobs()
        definition = REGISTRY[job_name]
        return self.queue(definition.queue).enqueue(
            "backend.jobs.runner.execute", job_name, kwargs, job_id=job_id, result_ttl=3600, failure_ttl=7 * 86400,
            retry=Retry(max=3, interval=[10, 60, 300]),  # jobs are idempotent, so a retry is always safe
            meta={"request_id": current_request_id()},  # the job's log lines name the request that caused it
        )
