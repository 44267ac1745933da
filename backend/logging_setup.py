"""Logging that never writes a full ID number: every formatted line passes through the redactor.

``LOG_FORMAT=json`` (the default) writes one JSON object per line — time, level, logger, message, request_id and
any ``extra`` fields — for a log shipper to index; ``LOG_FORMAT=text`` writes plain lines for a terminal.
Either way the finished line goes through the ID-number redactor last, so no field can carry a full number.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from backend.domain.identity import redact_id_numbers
from backend.observability.request_id import current_request_id

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id")
JSON_RENAMES = {"asctime": "time", "levelname": "level", "name": "logger"}


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_id_numbers(super().format(record))


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object per line, Chinese kept readable, the ID-number redactor applied to the whole line."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("json_ensure_ascii", False)
        kwargs.setdefault("rename_fields", JSON_RENAMES)
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return redact_id_numbers(super().format(record))


def stamp_request_ids() -> None:
    """Every log record, whoever logs it and whichever handler writes it, carries ``request_id``: the id of the
    request being served (or of the request that started the job being run), else "-"."""
    current = logging.getLogRecordFactory()
    if getattr(current, "stamps_request_id", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        record.request_id = current_request_id() or "-"
        return record

    factory.stamps_request_id = True
    logging.setLogRecordFactory(factory)


def formatter_for(log_format: str) -> logging.Formatter:
    if log_format == "text":
        return RedactingFormatter(TEXT_FORMAT)
    return RedactingJsonFormatter(list(JSON_FIELDS))


def configure_logging(level: str = "INFO", log_format: str = "json") -> None:
    stamp_request_ids()
    root = logging.getLogger()
    root.setLevel(level)
    ours = [h for h in root.handlers if getattr(h, "medins_handler", False)]
    if not ours:
        handler = logging.StreamHandler(sys.stderr)
        handler.medins_handler = True
        root.addHandler(handler)
        ours = [handler]
    for handler in ours:
        handler.setFormatter(formatter_for(log_format))
    # Alembic announces every plugin it sets up at INFO on each start; only its warnings matter here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # Handlers added by others (werkzeug, gunicorn, pytest's capture) get the redactor too.
    for handler in root.handlers:
        if not isinstance(handler.formatter, (RedactingFormatter, RedactingJsonFormatter)):
            fmt = handler.formatter._fmt if handler.formatter else FORMAT
            handler.setFormatter(RedactingFormatter(fmt))
