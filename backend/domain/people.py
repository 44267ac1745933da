"""Rules for person records arriving from the insurance core system (the nightly import, DESIGN §4.5)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from backend.domain.identity import InvalidIdNumber, validate_id_number
from backend.domain.money import InvalidAmount, yuan_to_fen

REGIONS = ("nx", "nm")
PERSON_TYPES = ("employed", "retired", "flexible")
PERSON_STATUSES = ("active", "arrears", "suspended", "terminated")
REQUIRED_COLUMNS = ("id_number", "name", "region", "person_type", "status", "contribution_base", "monthly_credit")
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
TRUE_WORDS = {"1", "true", "yes", "y", "是"}
# The amounts that apply to each type (DESIGN §4.13): a retiree has no contribution base (their credit is a fixed
# amount), an employed or flexible worker no fixed monthly credit. A blank amount that does not apply means "not
# applicable" and is stored as 0; a blank amount that applies, or any malformed amount, is refused.
APPLICABLE_AMOUNTS = {
    "employed": frozenset({"contribution_base"}),
    "flexible": frozenset({"contribution_base"}),
    "retired": frozenset({"monthly_credit"}),
}


@dataclass(frozen=True)
class PersonRecord:
    id_number: str
    name: str
    region: str
    person_type: str
    status: str
    contribution_base_fen: int
    monthly_credit_fen: int
    opening_balance_fen: int | None = None
    contribution_paid_through: str | None = None
    pool_code: str | None = None
    living_out_of_province: bool = False
    status_effective_from: dt.date | None = None  # None: the day of the import


class InvalidPersonRow(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def missing_columns(header: list[str]) -> list[str]:
    return [column for column in REQUIRED_COLUMNS if column not in header]


def parse_person_row(row: Mapping[str, str | None], today: dt.date) -> PersonRecord:
    """Validate one CSV row completely, collecting every problem so the operator fixes them in one go."""
    problems: list[str] = []
    value = {key: (row.get(key) or "").strip() for key in row}

    def pick(column: str, allowed: tuple[str, ...]) -> str:
        text = value.get(column, "")
        if text not in allowed:
            problems.append(f"{column}: {text!r} is not one of {', '.join(allowed)}")
        return text

    def amount(column: str, required: bool = True) -> int | None:
        text = value.get(column, "")
        if not text and not required:
            return None
        try:
            return yuan_to_fen(text)
        except InvalidAmount:
            problems.append(f"{column}: {text!r} is not a non-negative amount in yuan")
            return None

    id_number = _id_number(value.get("id_number", ""), today, problems)
    name = value.get("name", "")
    if not name or len(name) > 64 or not name.isprintable():
        problems.append("name: must be 1–64 printable characters")
    region = pick("region", REGIONS)
    person_type = pick("person_type", PERSON_TYPES)
    status = pick("status", PERSON_STATUSES)
    applicable = APPLICABLE_AMOUNTS.get(person_type, frozenset({"contribution_base", "monthly_credit"}))
    base = amount("contribution_base", required="contribution_base" in applicable)
    credit = amount("monthly_credit", required="monthly_credit" in applicable)
    opening = amount("account_balance", required=False)
    paid_through = value.get("contribution_paid_through") or None
    if paid_through and not PERIOD.match(paid_through):
        problems.append(f"contribution_paid_through: {paid_through!r} is not YYYY-MM")
    effective_from = _effective_from(value.get("status_effective_from", ""), today, problems)
    if problems:
        raise InvalidPersonRow(problems)
    return PersonRecord(
        id_number=id_number, name=name, region=region, person_type=person_type, status=status,
        contribution_base_fen=base or 0, monthly_credit_fen=credit or 0, opening_balance_fen=opening,
        contribution_paid_through=paid_through, pool_code=value.get("pool") or None,
        living_out_of_province=value.get("living_out_of_province", "").lower() in TRUE_WORDS,
        status_effective_from=effective_from,
    )


def _id_number(raw: str, today: dt.date, problems: list[str]) -> str:
    try:
        return validate_id_number(raw, today)
    except InvalidIdNumber as exc:
        problems.append(f"id_number: invalid ({exc.reason})")
        return ""


def _effective_from(text: str, today: dt.date, problems: list[str]) -> dt.date | None:
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"status_effective_from: {text!r} is not YYYY-MM-DD")
        return None
    if day > today:
        problems.append(f"status_effective_from: {text} is after today")
        return None
    return day


# --- the status in force on a date ------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatusChange:
    status: str
    effective_from: dt.date


def status_on(history: Sequence[StatusChange], on_date: dt.date, current: str) -> str:
    """The status in force on the date: the last change effective on or before it (for one day, the one recorded
    last). Before the first known change, the first known status — nothing older is known; no history at all:
    ``current``. ``history`` comes in the order it was recorded."""
    in_force = [change for change in history if change.effective_from <= on_date]
    if in_force:
        return max(enumerate(in_force), key=lambda pair: (pair[1].effective_from, pair[0]))[1].status
    if history:
        return min(enumerate(history), key=lambda pair: (pair[1].effective_from, pair[0]))[1].status
    return current


def status_for_benefits(status: str, on_date: dt.date, contribution_paid_through: str | None) -> str:
    """Arrears on a day whose month the contributions cover count as active: back-payment restores the benefits
    (NM §13), so a visit in a month paid through is paid even while the person is in arrears today."""
    if status == "arrears" and contribution_paid_through and month_of(on_date) <= contribution_paid_through:
        return "active"
    return status


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
