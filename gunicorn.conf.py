"""Gunicorn settings for production (deploy/) and `make run`.

The app is preloaded so jieba's dictionary and the policy caches are built once, before the workers fork.
Gunicorn's own lines (start, worker exits) are JSON like the application's and pass through the same ID-number
redactor; the per-request line is written by the app itself (backend.observability), with its request id, so
gunicorn's access log stays off.

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its metric values to files there and a scrape of /metrics
sums them: the directory is emptied when the server starts (stale files of a previous run would be counted) and a
dead worker's files are marked so its gauges stop counting.
"""

import os
import shutil
from pathlib import Path

from backend.web import gunicorn_errors

# Gunicorn's own refusals (e.g. a request line too long) answer with the API's JSON error shape, not HTML.
gunicorn_errors.install()

preload_app = True
# The longest request line gunicorn allows; the application refuses URLs over 4 KB itself, with the error shape.
limit_request_line = 8190
bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
accesslog = None
errorlog = "-"
_log_format = os.environ.get("LOG_FORMAT", "json")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "backend.logging_setup.RedactingJsonFormatter",
                 "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "text": {"()": "backend.logging_setup.RedactingFormatter",
                 "format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "text" if _log_format == "text" else "json",
                             "stream": "ext://sys.stderr"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def on_starting(server):
    """Start with an empty metrics directory: files left by a previous run would be summed into this one's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def post_fork(server, worker):
    """Each worker opens its own database connections; none inherited from the preloading parent."""
    from backend.extensions import db

    with worker.app.wsgi().app_context():
        db.engine.dispose(close=False)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
