"""Insured people: look-ups and the nightly import from the insurance core system."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from sqlalchemy import select

from backend.domain.identity import mask_id_number
from backend.domain.people import (
    InvalidPersonRow,
    PersonRecord,
    StatusChange,
    missing_columns,
    parse_person_row,
    status_for_benefits,
    status_on,
)
from backend.errors import NotFound
from backend.extensions import db
from backend.models import Person, PersonStatusChange
from backend.services import accounts, tokens
from backend.services.credits import local_today


def get(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound("未找到该参保人", reason="person_not_found")
    return person


@dataclass(frozen=True)
class PersonFacts:
    """What the chatbot may know of the person it talks to (no ID number): read once per turn."""

    id: int
    name: str
    region: str
    person_type: str
    status: str
    contribution_paid_through: str | None
    living_out_of_province: bool


def facts(person_id: int) -> PersonFacts:
    person = get(person_id)
    return PersonFacts(person.id, person.name, person.region_code, person.person_type, person.status,
                       person.contribution_paid_through, person.living_out_of_province)


def name_matches(id_number: str, name: str) -> bool | None:
    """Whether the insured person with this ID number has this name; None when no such person is insured here."""
    person = by_id_number(id_number)
    return None if person is None else person.name == name


def by_id_number(id_number: str) -> Person | None:
    return db.session.scalar(select(Person).where(Person.id_number == id_number))


def summary(person: Person) -> dict[str, object]:
    """What a person may see about themselves, ID number masked."""
    return {
        "name": person.name,
        "id_number_masked": mask_id_number(person.id_number),
        "region": person.region_code,
        "person_type": person.person_type,
        "status": person.status,
    }


def status_history(person_id: int) -> list[StatusChange]:
    """The person's status changes in the order they were recorded."""
    rows = db.session.execute(select(PersonStatusChange.status, PersonStatusChange.effective_from)
                              .where(PersonStatusChange.person_id == person_id).order_by(PersonStatusChange.id))
    return [StatusChange(status, effective_from) for status, effective_from in rows]


def benefit_status_on(person: Person, on_date: dt.date) -> str:
    """The status that judges a visit, claim or estimate on this date (issue #11.3): the one in force that day
    from the import's history, with arrears lifted for a month the contributions cover (NM §13)."""
    status = status_on(status_history(person.id), on_date, person.status)
    return status_for_benefits(status, on_date, person.contribution_paid_through)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, problem)


def import_csv(stream: TextIO, today: dt.date | None = None) -> ImportReport:
    """Import people; each row is all-or-nothing, a bad row is reported by line number and skipped."""
    today = today or local_today()
    reader = csv.DictReader(stream)
    report = ImportReport()
    missing = missing_columns(reader.fieldnames or [])
    if missing:
        report.errors.append((1, f"missing columns: {', '.join(missing)}"))
        return report
    for line_no, row in _numbered(reader):
        _import_row(line_no, row, today, report)
    db.session.commit()
    return report


def _numbered(reader: csv.DictReader) -> Iterator[tuple[int, dict[str, str]]]:
    for row in reader:
        yield reader.line_num, row


def _import_row(line_no: int, row: dict[str, str], today: dt.date, report: ImportReport) -> None:
    try:
        record = parse_person_row(row, today)
    except InvalidPersonRow as exc:
        report.errors.append((line_no, str(exc)))
        return
    savepoint = db.session.begin_nested()
    try:
        created = upsert(record, today)
        savepoint.commit()
    except Exception as exc:  # a database refusal of this row must not sink the rows before it
        savepoint.rollback()
        report.errors.append((line_no, f"not saved: {type(exc).__name__}"))
        return
    if created:
        report.created += 1
    else:
        report.updated += 1


def upsert(record: PersonRecord, today: dt.date | None = None) -> bool:
    """Create or update one person from a record; returns True when created. Part of the caller's transaction."""
    person = by_id_number(record.id_number)
    created = person is None
    if person is None:
        person = Person(id_number=record.id_number)
        db.session.add(person)
    if not created and person.status != record.status and record.status in ("suspended", "terminated"):
        tokens.revoke_subject("insured", str(person.id))  # signed-in sessions end now, not when their tokens expire
    person.name, person.region_code = record.name, record.region
    person.person_type = record.person_type
    status_changed = created or person.status != record.status
    person.status = record.status
    person.contribution_base_fen, person.monthly_credit_fen = record.contribution_base_fen, record.monthly_credit_fen
    person.pool_code = record.pool_code or person.pool_code
    person.living_out_of_province = record.living_out_of_province
    if record.contribution_paid_through:
        person.contribution_paid_through = record.contribution_paid_through
    db.session.flush()
    if status_changed:
        db.session.add(PersonStatusChange(person_id=person.id, status=record.status,
                                          effective_from=record.status_effective_from or today or local_today()))
    accounts.ensure_open(person, opening_balance_fen=record.opening_balance_fen)
    return created


def upsert_many(records: Iterable[PersonRecord]) -> None:
    for record in records:
        upsert(record)
