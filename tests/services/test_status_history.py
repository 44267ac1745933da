"""Visits are judged by the status in force on their date (issue #11.3, NM §13): the nightly import's status
history with effective dates, and ``contribution_paid_through`` covering a visit's month."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select

from backend.domain.people import PersonRecord, StatusChange, status_for_benefits, status_on
from backend.extensions import db
from backend.models import Institution, PersonStatusChange
from backend.services import benefits, manual_claims, people, settlements
from backend.services.settlement_requests import ManualVisit
from tests.benefits_fixtures import app, body_for, fen, fresh_session, item, make_person  # noqa: F401
from tests.conftest import valid_id_number


def nm_hospital() -> Institution:
    return db.session.scalar(select(Institution).where(Institution.code == "NM-T-001"))


@pytest.fixture
def gao_lei(make_person):
    """高磊: active since 2020, his employer in arrears from July 2026, contributions paid through June 2026."""
    person = make_person(region="nm", status="active", status_effective_from=dt.date(2020, 1, 1),
                         contribution_paid_through="2026-06")
    record = PersonRecord(id_number=person.id_number, name=person.name, region="nm", person_type="employed",
                          status="arrears", contribution_base_fen=600_000, monthly_credit_fen=0,
                          contribution_paid_through="2026-06", status_effective_from=dt.date(2026, 7, 1))
    people.upsert(record)
    db.session.commit()
    return person


def test_a_visit_before_the_arrears_began_is_paid_though_the_person_is_in_arrears_today(gao_lei):
    assert gao_lei.status == "arrears"
    paid = settlements.settle_direct(nm_hospital(), body_for(gao_lei, item("3000"), visit_date="2024-05-10"))
    assert paid["hifp_pay"] == "1200.00"  # (3000 − 1000) × 60 %, NM §8
    assert "pooling_stopped_arrears" not in paid["reasons"]


def test_a_visit_after_the_arrears_began_gets_nothing_from_general_pooling(gao_lei):
    stopped = settlements.settle_direct(nm_hospital(), body_for(gao_lei, item("3000"), visit_date="2026-08-10"))
    assert stopped["hifp_pay"] == "0.00"
    assert "pooling_stopped_arrears" in stopped["reasons"]


def test_manual_claims_and_estimates_are_judged_by_the_status_on_their_own_date(gao_lei):
    visit = ManualVisit(visit_date=dt.date(2024, 5, 10), hospital_level="tertiary", institution_name="某医院",
                        cross_province=False, med_type="general", lines=(("药品", fen(3000), True),))
    assert manual_claims.preview_manual(gao_lei.id, visit)["hifp_pay"] == "1200.00"
    late = replace(visit, visit_date=dt.date(2026, 8, 10))
    assert manual_claims.preview_manual(gao_lei.id, late)["hifp_pay"] == "0.00"
    assert benefits.estimate(gao_lei.id, fen(3000), "tertiary", dt.date(2024, 5, 10))["hifp_pay"] == "1200.00"
    assert benefits.estimate(gao_lei.id, fen(3000), "tertiary", dt.date(2026, 8, 10))["hifp_pay"] == "0.00"


def test_a_month_the_contributions_cover_is_paid_even_when_recorded_as_arrears(make_person):
    # Known only as in arrears, but the back-payment has arrived through May 2024 (NM §13: restored once paid).
    person = make_person(region="nm", status="arrears", status_effective_from=dt.date(2024, 1, 1),
                         contribution_paid_through="2024-05")
    covered = settlements.settle_direct(nm_hospital(), body_for(person, item("3000"), visit_date="2024-05-31"))
    assert covered["hifp_pay"] == "1200.00"
    uncovered = settlements.settle_direct(nm_hospital(), body_for(person, item("3000"), visit_date="2024-06-01"))
    assert uncovered["hifp_pay"] == "0.00" and "pooling_stopped_arrears" in uncovered["reasons"]


def test_the_import_keeps_the_history_and_adds_a_row_only_when_the_status_changes(app, tmp_path):
    number = valid_id_number("15010419921130051")
    header = "id_number,name,region,person_type,status,contribution_base,monthly_credit,status_effective_from\n"

    def run(*rows: str):
        path = tmp_path / "people.csv"
        path.write_text(header + "".join(rows), encoding="utf-8")
        return app.test_cli_runner().invoke(args=["import-people", str(path)])

    assert run(f"{number},高磊,nm,employed,active,6000,,2020-01-01\n").exit_code == 0
    assert run(f"{number},高磊,nm,employed,active,6000,,\n").exit_code == 0  # the same status again: no row
    assert run(f"{number},高磊,nm,employed,arrears,6000,,2026-07-01\n").exit_code == 0
    refused = run(f"{number},高磊,nm,employed,active,6000,,2026-13-01\n")
    assert refused.exit_code == 1 and "status_effective_from" in refused.output
    person = people.by_id_number(number)
    rows = db.session.execute(select(PersonStatusChange.status, PersonStatusChange.effective_from)
                              .where(PersonStatusChange.person_id == person.id)
                              .order_by(PersonStatusChange.id)).all()
    assert rows == [("active", dt.date(2020, 1, 1)), ("arrears", dt.date(2026, 7, 1))]
    assert person.status == "arrears"


# --- the pure rules ------------------------------------------------------------------------------------------------

HISTORY = [StatusChange("active", dt.date(2020, 1, 1)), StatusChange("arrears", dt.date(2026, 7, 1)),
           StatusChange("active", dt.date(2026, 9, 1))]


@pytest.mark.parametrize("day, expected", [
    (dt.date(2019, 5, 1), "active"),  # before anything known: the first known status
    (dt.date(2024, 5, 10), "active"),
    (dt.date(2026, 7, 1), "arrears"),
    (dt.date(2026, 8, 31), "arrears"),
    (dt.date(2026, 9, 1), "active"),
])
def test_the_status_in_force_is_the_last_change_effective_on_or_before_the_day(day, expected):
    assert status_on(HISTORY, day, current="terminated") == expected


def test_a_correction_recorded_later_for_the_same_day_wins():
    history = [StatusChange("arrears", dt.date(2026, 7, 1)), StatusChange("active", dt.date(2026, 7, 1))]
    assert status_on(history, dt.date(2026, 7, 2), current="arrears") == "active"
    assert status_on([], dt.date(2026, 7, 2), current="suspended") == "suspended"


def test_arrears_in_a_month_paid_through_count_as_active_and_nothing_else_changes():
    assert status_for_benefits("arrears", dt.date(2026, 6, 30), "2026-06") == "active"
    assert status_for_benefits("arrears", dt.date(2026, 7, 1), "2026-06") == "arrears"
    assert status_for_benefits("arrears", dt.date(2026, 6, 30), None) == "arrears"
    assert status_for_benefits("suspended", dt.date(2026, 6, 30), "2026-06") == "suspended"
