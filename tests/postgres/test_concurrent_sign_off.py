"""Two leaders signing off the same reimbursement at the same moment: one decision counts, the fund pays once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from backend.errors import AppError
from backend.extensions import db
from backend.models import AccumulatorEntry, Application, ReviewStepRecord, Settlement, StaffUser
from backend.services import applications, reimbursements
from backend.services.benefits import local_today
from tests.conftest import POSTGRES, run_together
from tests.files import pdf

pytestmark = [pytest.mark.skipif(not POSTGRES, reason="needs TEST_DATABASE_URL: real concurrency needs PostgreSQL"),
              pytest.mark.real_commits]

PDF = pdf()


def _staff(username: str, role: str) -> StaffUser:
    staff = StaffUser(username=username, display_name=username, password_hash="!", roles=[role])
    db.session.add(staff)
    db.session.commit()
    return staff


def _waiting_for_sign_off(person) -> str:
    filed = reimbursements.submit(person.id, {
        "visit_date": local_today() - dt.timedelta(days=1), "institution_name": "宁夏医科大学总医院",
        "hospital_level": "tertiary", "cross_province": False, "self_paid_by_choice": False, "med_type": "general",
        "invoices": [{"number": "SIGN-1", "amount_fen": 300_000, "electronic": True}],
        "items": [{"name": "门诊诊疗费", "amount_fen": 300_000, "in_scope": True}],
        "payee": {"kind": "social_security_card"},
    })
    application_id = filed["application_id"]
    applications.add_attachment(person.id, application_id, "fee_list", "清单.pdf", PDF)
    applications.decide(application_id, _staff("first", "first_reviewer"), "approve")
    applications.decide(application_id, _staff("second", "second_reviewer"), "approve")
    return application_id


def test_only_one_of_two_simultaneous_sign_offs_counts_and_the_fund_pays_once(make_app, make_person, tmp_path):
    app = make_app(UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        person = make_person(name="报销人")
        person_id = person.id
        application_id = _waiting_for_sign_off(person)
        leaders = [_staff(name, "leader").id for name in ("leader-a", "leader-b")]
        db.session.remove()

        def sign_off(staff_id):
            return lambda: applications.decide(application_id, db.session.get(StaffUser, staff_id), "approve")

        outcomes = run_together(app, *(sign_off(staff_id) for staff_id in leaders))

        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert len(refused) == 1 and isinstance(refused[0], AppError), outcomes
        assert refused[0].status in (403, 409)
        assert db.session.get(Application, application_id).status in ("approved", "paid")
        assert db.session.scalar(select(func.count()).select_from(ReviewStepRecord).where(
            ReviewStepRecord.application_id == application_id, ReviewStepRecord.step == "sign_off")) == 1
        assert db.session.scalar(select(func.count()).select_from(Settlement).where(
            Settlement.application_id == application_id)) == 1
        # Deductible and pooling were consumed by that one settlement only.
        deltas = db.session.scalars(select(AccumulatorEntry.settlement_id).where(
            AccumulatorEntry.person_id == person_id)).all()
        assert len(set(deltas)) == 1
