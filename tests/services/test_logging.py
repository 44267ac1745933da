"""Logs never contain a full ID number."""

import logging

from backend.logging_setup import RedactingFormatter
from tests.conftest import valid_id_number


def test_a_full_id_number_in_a_log_line_is_masked_to_first_six_and_last_four():
    number = valid_id_number("64010419800101123")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "bind failed for %s, 身份证%s号", (number, number), None)
    line = RedactingFormatter("%(message)s").format(record)
    assert number not in line
    assert line == f"bind failed for {number[:6]}********{number[-4:]}, 身份证{number[:6]}********{number[-4:]}号"


def test_application_logs_pass_through_the_redactor_in_either_format(app):
    from backend.logging_setup import RedactingJsonFormatter, configure_logging

    number = valid_id_number("15010219750505456")
    for log_format in ("json", "text"):
        configure_logging("INFO", log_format)
        formatters = [h.formatter for h in logging.getLogger().handlers]
        assert all(isinstance(f, (RedactingFormatter, RedactingJsonFormatter)) for f in formatters)
        record = logging.getLogRecordFactory()("x", logging.WARNING, __file__, 1, "person %s", (number,), None)
        assert all(number not in f.format(record) for f in formatters)
    configure_logging("INFO", app.config["LOG_FORMAT"])


def test_an_exception_traceback_is_redacted_too():
    number = valid_id_number("64010419800101123")
    try:
        raise ValueError(f"no person {number}")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert number not in RedactingFormatter("%(message)s").format(record)
