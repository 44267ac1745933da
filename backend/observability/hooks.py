"""The request hooks of observability: a request id first, then metrics, then one access-log line per request."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, request

from backend.observability.metrics import START_KEY, register_metrics
from backend.observability.request_id import assign_request_id, echo_request_id

access_log = logging.getLogger("medins.access")


def register_observability(app: Flask) -> None:
    """Registered before every other request hook, so even a request refused by a hook has its id."""
    app.before_request(assign_request_id)
    register_metrics(app)
    app.after_request(log_request)
    app.after_request(echo_request_id)


def log_request(response: Response) -> Response:
    """One line per request — the id, endpoint, status and time — in place of gunicorn's access log."""
    started = request.environ.get(START_KEY)
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
        "method": request.method, "path": request.path,
        "endpoint": request.url_rule.endpoint if request.url_rule else None,
        "status": response.status_code, "duration_ms": duration_ms, "remote_addr": request.remote_addr,
    })
    return response
