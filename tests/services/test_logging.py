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


def test_application_logs_pass_through_the_redactor(app, caplog):
    number = valid_id_number("15010219750505456")
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(message)s"))
    from backend.logging_setup import configure_logging

    configure_logging("INFO")
    root_formatters = [h.formatter for h in logging.getLogger().handlers]
    assert all(isinstance(f, RedactingFormatter) for f in root_formatters)
    assert number not in root_formatters[0].format(
        logging.LogRecord("x", logging.WARNING, __file__, 1, "person %s", (number,), None))


def test_an_exception_traceback_is_redacted_too():
    number = valid_id_number("64010419800101123")
    try:
        raise ValueError(f"no person {number}")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert number not in RedactingFormatter("%(message)s").format(record)
