"""Admissions and discharges posted by institutions: general outpatient pooling pauses in hospital (NM §12).

Each use case is one transaction. An admission is identified by the institution and its own admission number; a
repeat with the same data answers the same, a repeat with other data is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.errors import Conflict, NotFound, Unprocessable
from backend.extensions import db
from backend.models import HospitalStay, Institution, Person, utcnow
from backend.services import people
from backend.services.benefits import LOCAL_ZONE, masked_person
from backend.services.settlement_requests import REFERENCE, parse_date, parse_id_number


def admit(institution: Institution, body: Mapping, *, now: dt.datetime | None = None) -> tuple[dict, bool]:
    """Record an admission; returns (view, created)."""
    today = (now or utcnow()).astimezone(LOCAL_ZONE).date()
    admission_no = _admission_no(body.get("admission_no"))
    id_number = parse_id_number(body.get("id_number"))
    admitted_on = parse_date(body.get("admitted_on"), "admitted_on", today=today)
    person = people.by_id_number(id_number)
    if person is None:
        raise NotFound("未找到该参保人", reason="person_not_found")
    earlier = _stay(institution, admission_no)
    if earlier is not None:
        return _repeat_of(earlier, person, admitted_on), False
    stay = HospitalStay(person_id=person.id, institution_id=institution.id, admission_no=admission_no,
                        admitted_on=admitted_on)
    db.session.add(stay)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the same admission number posted at the same moment
        earlier = _stay(institution, admission_no)
        if earlier is None:
            raise
        return _repeat_of(earlier, person, admitted_on), False
    return stay_view(stay, person), True


def _repeat_of(stay: HospitalStay, person: Person, admitted_on: dt.date) -> dict:
    if stay.person_id != person.id or stay.admitted_on != admitted_on:
        raise Conflict("该住院号已登记为另一条入院记录", reason="admission_no_reused", admission_no=stay.admission_no)
    return stay_view(stay, person)


def discharge(institution: Institution, admission_no: str, body: Mapping, *,
              now: dt.datetime | None = None) -> dict:
    """Record the discharge day; the same day posted again answers the same, another day is refused."""
    today = (now or utcnow()).astimezone(LOCAL_ZONE).date()
    stay = _stay(institution, _admission_no(admission_no))
    if stay is None:
        raise NotFound("未找到该入院记录", reason="admission_not_found")
    discharged_on = parse_date(body.get("discharged_on"), "discharged_on", today=today)
    if discharged_on < stay.admitted_on:
        raise Unprocessable("出院日期不能早于入院日期", reason="discharge_before_admission")
    if stay.discharged_on is not None and stay.discharged_on != discharged_on:
        raise Conflict("该住院已登记其他出院日期", reason="already_discharged",
                       discharged_on=stay.discharged_on.isoformat())
    stay.discharged_on = discharged_on
    db.session.commit()
    return stay_view(stay, db.session.get(Person, stay.person_id))


def _admission_no(value: object) -> str:
    if not isinstance(value, str) or not REFERENCE.match(value):
        raise Unprocessable("住院号应为 1–64 位字母、数字或 _ . - /", reason="invalid_admission_no")
    return value


def _stay(institution: Institution, admission_no: str) -> HospitalStay | None:
    return db.session.scalar(select(HospitalStay).where(
        HospitalStay.institution_id == institution.id, HospitalStay.admission_no == admission_no))


def stay_view(stay: HospitalStay, person: Person) -> dict:
    return {
        "admission_no": stay.admission_no,
        "status": "discharged" if stay.discharged_on else "admitted",
        "admitted_on": stay.admitted_on.isoformat(),
        "discharged_on": stay.discharged_on.isoformat() if stay.discharged_on else None,
        "person": masked_person(person),
    }
