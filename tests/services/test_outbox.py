"""The outbox: written in the use case's transaction, drained to RQ after commit, each message once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.jobs import job
from backend.models import OutboxMessage
from backend.services import outbox
from tests.conftest import REAL_REDIS

CALLS: list[dict] = []


@job("test_record_call", queue="default")
def record_call(**payload):
    CALLS.append(payload)


@pytest.fixture(autouse=True)
def forget_calls():
    CALLS.clear()


def test_nothing_is_dispatched_when_the_transaction_rolls_back(app):
    outbox.add("test_record_call", n=1)
    db.session.rollback()
    assert outbox.drain() == 0
    assert CALLS == []


def test_a_committed_message_runs_once_even_if_drained_twice(app):
    outbox.add("test_record_call", n=2)
    db.session.commit()
    assert outbox.drain() == 1
    assert outbox.drain() == 0
    assert CALLS == [{"n": 2}]
    message = db.session.scalar(select(OutboxMessage))
    assert message.dispatched_at is not None and message.attempts == 1


def test_a_message_whose_job_is_unknown_stays_pending_with_its_error(app):
    outbox.add("no_such_job", n=3)
    db.session.commit()
    outbox.drain()
    message = db.session.scalar(select(OutboxMessage))
    assert message.dispatched_at is None and message.last_error


def test_the_request_that_wrote_to_the_outbox_starts_the_work_after_its_response(make_app):
    app = make_app(own=True)  # the test adds a route

    def write_and_commit():
        outbox.add("test_record_call", n=4)
        db.session.commit()
        assert CALLS == []  # not before the transaction is over
        return "ok"

    app.add_url_rule("/test-outbox", view_func=write_and_commit, methods=["POST"])
    client = app.test_client()
    client.get("/healthz")
    assert CALLS == []
    assert client.post("/test-outbox").status_code == 200
    assert CALLS == [{"n": 4}]


def test_a_failing_job_does_not_fail_the_response_and_stays_pending(make_app):
    app = make_app(own=True)  # the test adds a route

    @job("test_failing_job")
    def failing(**_):
        raise RuntimeError("boom")

    def write_and_commit():
        outbox.add("test_failing_job")
        db.session.commit()
        return "ok"

    app.add_url_rule("/test-outbox-failing", view_func=write_and_commit, methods=["POST"])
    assert app.test_client().post("/test-outbox-failing").status_code == 200
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        assert message.dispatched_at is None and "boom" in message.last_error


@pytest.mark.skipif(not REAL_REDIS, reason="needs TEST_REDIS_URL: the asynchronous path runs through a real Redis")
@pytest.mark.real_commits
def test_with_a_real_redis_the_work_waits_for_a_worker(make_app):
    from rq import SimpleWorker

    from backend.extensions import job_queue

    app = make_app(JOBS_SYNCHRONOUS=False)
    with app.app_context():
        outbox.add("test_record_call", n=5)
        db.session.commit()
        outbox.drain()
        assert CALLS == []
        queue = job_queue.queue("default")
        assert queue.count == 1
        SimpleWorker([queue], connection=app.extensions["redis"]).work(burst=True)
        assert CALLS == [{"n": 5}]
