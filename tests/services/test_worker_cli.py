"""`flask worker` and the periodic schedule."""

import pytest

from backend.extensions import db, job_queue
from backend.jobs import REGISTRY, load_all_jobs
from backend.jobs.schedule import SCHEDULE
from backend.models import OutboxMessage
from backend.services import outbox
from tests.conftest import REAL_REDIS


def test_every_periodic_job_is_a_registered_job_with_one_timing():
    load_all_jobs()
    for periodic in SCHEDULE:
        assert periodic.job_name in REGISTRY
        assert (periodic.interval_seconds is None) != (periodic.cron is None)


def test_the_worker_refuses_to_start_without_a_real_redis(make_app):
    app = make_app(REDIS_URL=None)
    if app.extensions["redis_backend"] == "redis":
        pytest.skip("this run has a real Redis")
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0
    assert "REDIS_URL is not set" in result.output


@pytest.mark.skipif(not REAL_REDIS, reason="needs TEST_REDIS_URL")
@pytest.mark.real_commits
def test_the_worker_command_runs_queued_work_and_stops_in_burst_mode(make_app):
    app = make_app(JOBS_SYNCHRONOUS=False)
    with app.app_context():
        outbox.add("purge_idempotency_records")
        db.session.commit()
        outbox.drain()
        assert job_queue.queue("low").count == 1
        result = app.test_cli_runner().invoke(args=["worker", "--burst", "--queues", "low"])
        assert result.exit_code == 0, result.output
        assert job_queue.queue("low").count == 0
        assert db.session.query(OutboxMessage).one().dispatched_at is not None
