"""The benefits service: the person as the engine sees them, accumulators, caps and estimates."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Accumulator, AccumulatorEntry, ChronicQualification, HospitalStay, Institution
from backend.services import benefits, settlement_refunds, settlements
from tests.benefits_fixtures import app, body_for, fen, fresh_session, item, make_person  # noqa: F401

DAY = dt.date(2024, 5, 10)


def institution(code: str) -> Institution:
    return db.session.scalar(select(Institution).where(Institution.code == code))


def qualify(person, code="I10", valid_from=dt.date(2024, 1, 1), valid_to=None, status="active", adjustment=0):
    db.session.add(ChronicQualification(person_id=person.id, disease_code=code, disease_name="高血压",
                                        valid_from=valid_from, valid_to=valid_to, status=status,
                                        cap_adjustment_fen=adjustment))
    db.session.commit()


def test_the_snapshot_carries_the_qualifications_valid_on_the_day(make_person):
    person = make_person(region="nx")
    qualify(person, "I10")
    qualify(person, "E11", valid_to=DAY)  # ended the day before: valid_to is exclusive
    qualify(person, "N18", status="revoked")
    qualify(person, "J45", valid_from=DAY + dt.timedelta(days=1))
    snapshot = benefits.person_snapshot(person, DAY)
    assert snapshot.chronic_qualifications == {"I10"}
    assert (snapshot.region, snapshot.person_type, snapshot.status) == ("nx", "employed", "active")
    assert snapshot.chronic_cap_fen is None


def test_an_approved_cap_adjustment_is_added_to_the_policy_cap_of_the_persons_type(make_person):
    person = make_person(region="nx", person_type="retired")
    qualify(person, "I10", adjustment=fen(2000))
    # nx-2024-01: chronic cap 10000 for retirees; the adjustment takes it to 12000 (NX §17).
    assert benefits.person_snapshot(person, DAY).chronic_cap_fen == fen(10000 + 2000)


def test_a_person_is_in_hospital_from_the_admission_day_until_the_day_before_discharge(make_person):
    person = make_person(region="nm")
    db.session.add(HospitalStay(person_id=person.id, institution_id=institution("NM-T-001").id, admission_no="Z1",
                                admitted_on=DAY, discharged_on=DAY + dt.timedelta(days=3)))
    db.session.commit()
    days = [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=2), DAY + dt.timedelta(days=3)]
    assert [benefits.in_hospital(person.id, day) for day in days] == [False, True, True, False]


def test_accumulators_are_the_sum_of_their_entries_through_settlements_and_refunds(make_person):
    person = make_person(region="nm")
    hospital = institution("NM-T-001")
    first = settlements.settle_direct(hospital, body_for(person, item("3000")))
    settlements.settle_direct(hospital, body_for(person, item("500")))
    settlement_refunds.refund(hospital, first["setl_id"], {"refund_no": "R-1"})
    cached = dict(db.session.execute(select(Accumulator.bucket, Accumulator.amount_fen)
                                     .where(Accumulator.person_id == person.id, Accumulator.year == 2024)).all())
    summed = dict(db.session.execute(select(AccumulatorEntry.bucket, func.sum(AccumulatorEntry.delta_fen))
                                     .where(AccumulatorEntry.person_id == person.id)
                                     .group_by(AccumulatorEntry.bucket)).all())
    assert cached == summed
    # The refund takes back exactly what the first visit added; the second visit keeps what it was paid then
    # (deductible already met: 500 × 60 % = 300), a settled visit is never recomputed.
    assert benefits.year_to_date(person.id, 2024) == {"general_base_6000": fen(500), "general_fund": fen(300),
                                                      "combined_fund": fen(300)}


def test_caps_show_an_adjusted_chronic_cap_and_what_is_left(make_person):
    person = make_person(region="nx")
    qualify(person, "I10", adjustment=fen(1000))
    settlements.settle_direct(institution("NX-T-001"),
                              body_for(person, item("1600"), med_type="chronic", disease_code="I10"))
    caps = benefits.caps(person.id, 2024)
    # (1600 − 600 deductible) × 70 % = 700 of a chronic cap of 8000 + 1000.
    assert caps["chronic"] | {"allowed": "9000.00", "used": "700.00", "remaining": "8300.00"} == caps["chronic"]
    assert caps["deductible"] | {"allowed": "600.00", "used": "600.00", "remaining": "0.00"} == caps["deductible"]
    assert caps["combined"]["used"] == "700.00"  # chronic counts toward the maximum in NX


def test_an_estimate_is_what_the_settlement_would_pay_and_writes_nothing(make_person):
    person = make_person(region="nm", person_type="retired")
    estimate = benefits.estimate(person.id, fen(3000), "tertiary", DAY)
    settled = settlements.settle_direct(institution("NM-T-001"), body_for(person, item("3000")))
    assert estimate["hifp_pay"] == settled["hifp_pay"] == "1300.00"  # (3000 − 1000) × 65 %
    assert estimate["explanation"][:-1] == settled["explanation"][:-1]


def test_names_are_masked_to_their_first_character():
    assert [benefits.mask_name(n) for n in ("张伟", "欧阳娜娜", "李")] == ["张*", "欧***", "李*"]
