"""Wait (bounded) until every queued job is done: outbox rows dispatched, RQ queues and started registries empty.
Prints how many are left (0 when all were completed); used by `make load` after the load stops."""

from __future__ import annotations

import sys
import time

from rq import Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import func, select

from backend.extensions import db
from backend.jobs.queue import QUEUES
from backend.models import OutboxMessage
from wsgi import app


def left() -> tuple[int, int]:
    connection = app.extensions["redis"]
    pending = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.dispatched_at.is_(None)))
    db.session.rollback()
    queued = sum(len(Queue(name, connection=connection)) + len(StartedJobRegistry(name, connection=connection))
                 for name in QUEUES)
    failed = sum(len(FailedJobRegistry(name, connection=connection)) for name in QUEUES)
    return pending + queued, failed


def main(deadline_seconds: float) -> int:
    with app.app_context():
        stop = time.monotonic() + deadline_seconds
        remaining, failed = left()
        while remaining and time.monotonic() < stop:
            time.sleep(1)  # polling a live system's queues, outside the test suite
            remaining, failed = left()
        print(remaining + failed)
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 90))
