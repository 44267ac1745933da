"""Jobs abandoned by a worker that died mid-job (SIGKILL, OOM, a lost machine) run again within a minute.

RQ keeps a running job in its queue's StartedJobRegistry with an expiry its worker's heartbeat pushes forward. RQ's
own expiry is the heartbeat interval + 60 s and its own sweep runs every 10 minutes, so a killed worker's job sat
"started" for minutes. Here both are short and configured: workers heartbeat every JOB_HEARTBEAT_SECONDS and a job
unheard of for JOB_ABANDONED_AFTER_SECONDS more is abandoned; ``recover_abandoned_jobs`` (periodic, every 15 s, and
at every worker's start) hands such jobs back to their queue through their Retry (jobs are idempotent, so
running one again completes it exactly once).
"""

from __future__ import annotations

import time

from flask import current_app
from rq import Worker
from rq.registry import StartedJobRegistry

from backend.jobs import job
from backend.jobs.queue import QUEUES


class PromptWorker(Worker):
    """An RQ worker whose jobs count as abandoned JOB_ABANDONED_AFTER_SECONDS after its last heartbeat."""

    abandoned_after_seconds = 20

    def get_heartbeat_ttl(self, running) -> int:
        if running.timeout and running.timeout > 0:
            remaining = running.timeout - self.current_job_working_time
            return int(min(remaining, self.job_monitoring_interval)) + self.abandoned_after_seconds
        return self.job_monitoring_interval + self.abandoned_after_seconds


def worker(queues: list[str], connection) -> PromptWorker:
    config = current_app.config
    PromptWorker.abandoned_after_seconds = config["JOB_ABANDONED_AFTER_SECONDS"]
    return PromptWorker(queues, connection=connection, job_monitoring_interval=config["JOB_HEARTBEAT_SECONDS"],
                        maintenance_interval=config["JOB_HEARTBEAT_SECONDS"] * 3)


def abandoned_job_ids(connection, at: float | None = None) -> list[str]:
    """Ids of the jobs whose worker has not been heard of in time, as of ``at`` (Unix time, default now)."""
    at = time.time() if at is None else at
    return [job_id for name in QUEUES
            for job_id in StartedJobRegistry(name, connection=connection).get_expired_job_ids(at)]


def recover(connection, at: float | None = None) -> int:
    """Hand abandoned jobs back to their queues (retry) or to the failed registry when retries are spent."""
    found = len(abandoned_job_ids(connection, at))
    for name in QUEUES:
        StartedJobRegistry(name, connection=connection).cleanup(timestamp=at)
    return found


@job("recover_abandoned_jobs", queue="high")
def recover_abandoned_jobs() -> int:
    return recover(current_app.extensions["redis"])
