"""Gunicorn settings for production and `make run`.

The app is preloaded so jieba's dictionary and the policy caches are built once, before the workers fork.
Access log lines pass through the same ID-number redactor as the application's logs.
"""

import os

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
accesslog = "-"
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"redacted": {"()": "backend.logging_setup.RedactingFormatter",
                                "format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "redacted",
                             "stream": "ext://sys.stderr"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def post_fork(server, worker):
    """Each worker opens its own database connections; none inherited from the preloading parent."""
    from backend.extensions import db

    with worker.app.wsgi().app_context():
        db.engine.dispose(close=False)
