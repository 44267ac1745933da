"""An RQ worker SIGKILLed mid-job: the job is abandoned within the configured silence, handed back to its queue,
and completed exactly once by the next worker — without anyone retrying it by hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Queue, Retry
from rq.job import Job

from backend.jobs import recovery
from tests.faults.servers import redis_server  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT, ABANDONED_AFTER = 1, 2

# Other processes (a worker) and other connections see what the test wrote: real commits, tables emptied after.
pytestmark = pytest.mark.real_commits


def worker_process(app, redis_url: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url,
           "SECRET_KEY": "k" * 48, "JOB_HEARTBEAT_SECONDS": str(HEARTBEAT),
           "JOB_ABANDONED_AFTER_SECONDS": str(ABANDONED_AFTER), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queues", "default", *args],
                            cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_with_its_horse(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and the work horse it forked (RQ puts the horse in a session of its own)."""
    import psutil

    horses = psutil.Process(worker.pid).children(recursive=True)
    os.killpg(worker.pid, signal.SIGKILL)
    for horse in horses:
        horse.kill()
    worker.wait(timeout=30)
    psutil.wait_procs(horses, timeout=30)


def test_a_job_whose_worker_was_killed_runs_again_and_completes_once(app, redis_server):  # noqa: F811
    import redis

    connection = redis.Redis.from_url(redis_server.url, socket_timeout=300)  # BLPOP below waits this long at most
    job = Queue("default", connection=connection).enqueue(
        "tests.faults.held_job.hold", redis_server.url, "held", retry=Retry(max=2), job_timeout=120)
    worker = worker_process(app, redis_server.url)
    try:
        assert connection.blpop(["held:started"], timeout=240) is not None, "the worker never started the job"
        kill_with_its_horse(worker)  # mid-job

    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    assert Job.fetch(job.id, connection=connection).get_status() == "started"  # what RQ alone would keep showing
    # Abandoned no later than heartbeat + the configured silence after the kill, not RQ's minutes.
    assert recovery.abandoned_job_ids(connection, at=time.time() + HEARTBEAT + ABANDONED_AFTER + 1) == [job.id]
    assert recovery.recover(connection, at=time.time() + HEARTBEAT + ABANDONED_AFTER + 1) == 1
    next_worker = worker_process(app, redis_server.url, "--burst")
    assert next_worker.wait(timeout=180) == 0
    assert Job.fetch(job.id, connection=connection).get_status() == "finished"
    attempts, done = int(connection.get("held:attempts")), int(connection.get("held:done"))
    assert (attempts, done) == (2, 1), Job.fetch(job.id, connection=connection).get_meta()
