"""The one function RQ calls: run a registered job in its own app context (so its own database session)."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from flask import current_app, has_app_context

log = logging.getLogger(__name__)
_POOL_OWNER_PID = os.getpid()


def execute(job_name: str, kwargs: dict[str, Any]) -> Any:
    from backend.jobs import REGISTRY, load_all_jobs

    load_all_jobs()
    definition = REGISTRY[job_name]
    if not has_app_context():  # a worker started outside the Flask CLI
        from wsgi import app

        with app.app_context():
            return _run(job_name, definition.func, kwargs)
    # A fresh context gives the job its own session, apart from a request's (synchronous mode).
    with current_app._get_current_object().app_context():
        return _run(job_name, definition.func, kwargs)


def _run(job_name: str, func, kwargs: dict[str, Any]) -> Any:
    _forget_inherited_connections()
    started = time.perf_counter()
    # The log lines carry the id of the request that caused the job (backend.observability.request_id).
    log.info("job %s started", job_name, extra={"job": job_name})
    result = func(**kwargs)
    log.info("job %s done", job_name, extra={"job": job_name,
                                              "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
    return result


def _forget_inherited_connections() -> None:
    """RQ forks a work horse per job; pooled connections inherited from the parent must not be shared."""
    global _POOL_OWNER_PID
    if os.getpid() != _POOL_OWNER_PID:
        from backend.extensions import db

        db.engine.dispose(close=False)
        log = logging.getLogger(__name__)
_POOL_OWNER_PID = os.getpid()
