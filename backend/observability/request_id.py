"""One id per request, from the caller's ``X-Request-ID`` or made here, carried into logs and the jobs it starts.

The id lives in the WSGI environ rather than ``flask.g``: a job run inline (embedded mode) opens its own app
context, and ``g`` belongs to the app context, while the request — and so the environ — is still the same.
In a worker the id comes from the job's meta, where ``JobQueue.enqueue`` put it.
"""

from __future__ import annotations

import re
import uuid

from flask import Response, has_request_context, request
from rq import get_current_job

HEADER = "X-Request-ID"
ENVIRON_KEY = "medins.request_id"
# A caller's id is kept only if it cannot forge log fields or headers: visible ASCII without quotes, 1–128 long.
ACCEPTED = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,128}$")


def assign_request_id() -> None:
    """before_request: take the caller's id when it is well-formed, else make one."""
    incoming = request.headers.get(HEADER, "")
    request.environ[ENVIRON_KEY] = incoming if ACCEPTED.match(incoming) else uuid.uuid4().hex


def echo_request_id(response: Response) -> Response:
    """after_request: the caller gets the id back to quote when reporting a problem."""
    request_id = current_request_id()
    if request_id:
        response.headers[HEADER] = request_id
    return response


def current_request_id() -> str | None:
    """The id of the request being served, or of the request that started the job being run, else None."""
    if has_request_context():
        return request.environ.get(ENVIRON_KEY)
    return _job_request_id()


def _job_request_id() -> str | None:
    try:
        job = get_current_job()
    except Exception:  # no job, or RQ cannot reach its connection: a log line must never fail for this
        return None
    return (job.meta or {}).get("request_id") if job is not None else None
