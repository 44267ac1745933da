"""Logging that never writes a full ID number: every formatted line passes through the redactor."""

from __future__ import annotations

import logging
import sys

from backend.domain.identity import redact_id_numbers

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_id_numbers(super().format(record))


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(h.formatter, RedactingFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(RedactingFormatter(FORMAT))
        root.addHandler(handler)
    # Alembic announces every plugin it sets up at INFO on each start; only its warnings matter here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Handlers added by others (werkzeug, gunicorn, pytest's capture) get the redactor too.
    for handler in root.handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            fmt = handler.formatter._fmt if handler.formatter else FORMAT
            handler.setFormatter(RedactingFormatter(fmt))
