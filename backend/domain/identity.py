"""Resident identity numbers (居民身份证号码): validation and masking.

The check digit and birth date are verified with python-stdnum's ``cn.ric`` helpers, but not its
``validate()``: that also refuses a region code that did not exist on the birth date (640104 兴庆区 was created
in 2002, yet people born in 1958 carry it after re-registration). Such numbers are real, so the place is not
checked here.
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

ID_NUMBER_PATTERN = re.compile(r"^\d{17}[\dX]$")
EARLIEST_BIRTH_YEAR = 1880


class InvalidIdNumber(ValueError):
    """Raised with ``reason`` in {"format", "birth_date", "checksum"}."""

    def __init__(self, reason: str):
        super().__init__(f"invalid id number: {reason}")
        self.reason = reason


def normalize_id_number(raw: str) -> str:
    return ric.compact(raw or "")


def validate_id_number(raw: str, today: dt.date | None = None) -> str:
    """Return the normalised number, or raise InvalidIdNumber saying which part is wrong."""
    number = normalize_id_number(raw)
    if not ID_NUMBER_PATTERN.match(number):
        raise InvalidIdNumber("format")
    try:
        birth = ric.get_birth_date(number)
    except ValidationError as exc:
        raise InvalidIdNumber("birth_date") from exc
    if birth.year < EARLIEST_BIRTH_YEAR or birth > (today or dt.date.today()):
        raise InvalidIdNumber("birth_date")
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidIdNumber("checksum")
    return number


def is_valid_id_number(raw: str, today: dt.date | None = None) -> bool:
    try:
        validate_id_number(raw, today)
    except InvalidIdNumber:
        return False
    return True


def birth_date_of(number: str) -> dt.date:
    return ric.get_birth_date(number)


def mask_id_number(number: str) -> str:
    """First 6 + last 4 visible: 640104195803150018 -> 640104********0018."""
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


# Finds 18-character ID numbers inside free text (Chinese has no word boundaries, so lookarounds, not \b).
ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def redact_id_numbers(text: str) -> str:
    """Mask every ID-number-shaped run in free text (logs, transcripts)."""
    return ID_NUMBER_IN_TEXT.sub(lambda m: mask_id_number(m.group(0).upper()), text)
