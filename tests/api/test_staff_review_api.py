"""Staff review through the API: queues per role, claim, the three steps of a manual reimbursement down to the
payment, and separation of duties."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from backend.domain.money import apply_share, fen_to_yuan
from backend.extensions import db
from backend.models import (
    AuditLog,
    IndividualAccount,
    InvoiceRecord,
    LedgerPosting,
    Settlement,
    StaffUser,
)
from backend.services import benefits, policies, tokens
from backend.services.benefits import local_today
from tests.files import pdf, png

VISIT = local_today() - dt.timedelta(days=2)
PNG = png()
PDF = pdf()
ROLES = {"reviewer1": ["first_reviewer"], "reviewer2": ["second_reviewer"], "leader1": ["leader"],
         "leader2": ["leader"], "veteran": ["first_reviewer", "second_reviewer", "leader"], "admin1": ["admin"]}


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(UPLOAD_DIR=str(tmp_path / "uploads"), STATEMENT_DIR=str(tmp_path / "statements"))
    with app.app_context():
        yield app


@pytest.fixture
def staff_token(app):
    """Authorization headers for a member of staff, created on first use (signing in is tested elsewhere)."""

    def headers(username: str) -> dict[str, str]:
        staff = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if staff is None:
            staff = StaffUser(username=username, display_name=username, password_hash="!", roles=ROLES[username])
            db.session.add(staff)
            db.session.commit()
        token = tokens.issue_access_token("staff", str(staff.id), roles=list(staff.roles))
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def insured(make_person, person_headers):
    person = make_person(name="报销人", opening_balance_fen=50_000)
    return person, person_headers(person)


def file_reimbursement(client, headers, number="NX-INV-1", amount="1000.00"):
    response = client.post("/api/v1/reimbursements", headers=headers, json={
        "visit_date": VISIT.isoformat(), "institution_name": "宁夏医科大学总医院", "hospital_level": "tertiary",
        "cross_province": False, "self_paid_by_choice": False,
        "invoices": [{"number": number, "amount": amount, "electronic": False}],
        "items": [{"name": "门诊诊疗及药品", "amount": amount, "in_scope": True}],
        "payee": {"kind": "social_security_card"},
    })
    assert response.status_code == 201, response.json
    application_id = response.json["application_id"]
    for kind, name, data in (("invoice", "发票.png", PNG), ("fee_list", "费用清单.pdf", PDF)):
        uploaded = client.post(f"/api/v1/reimbursements/{application_id}/attachments", headers=headers,
                               data={"kind": kind, "file": (_stream(data), name)},
                               content_type="multipart/form-data")
        assert uploaded.status_code == 201, uploaded.json
    return application_id


def decide(client, headers, application_id, decision="approve", comment=None, reason_code=None):
    body = {"decision": decision, "comment": comment}
    if reason_code:
        body["reason_code"] = reason_code
    return client.post(f"/api/v1/staff/applications/{application_id}/decisions", headers=headers, json=body)


def queue_ids(client, headers, queue="step"):
    response = client.get(f"/api/v1/staff/applications?queue={queue}", headers=headers)
    assert response.status_code == 200, response.json
    return [item["application_id"] for item in response.json]


def test_a_reimbursement_goes_through_three_steps_and_is_paid_exactly_once(client, insured, staff_token):
    person, headers = insured
    application_id = file_reimbursement(client, headers)
    policy = policies.in_force("nx", VISIT)
    deductible = policy.benefits.deductible.amount_fen.of("employed")
    share = policy.benefits.general.share_bp.of("tertiary").of("employed")
    expected_fund = apply_share(100_000 - deductible, share)  # (1000 − deductible) × tertiary share

    assert application_id in queue_ids(client, staff_token("reviewer1"))
    assert client.post(f"/api/v1/staff/applications/{application_id}/claim",
                       headers=staff_token("reviewer1")).status_code == 200
    assert application_id in queue_ids(client, staff_token("reviewer1"), "mine")
    assert decide(client, staff_token("reviewer1"), application_id).json["current_step"]["name"] == "second_review"
    assert application_id in queue_ids(client, staff_token("reviewer2"))
    assert decide(client, staff_token("reviewer2"), application_id).status_code == 200

    case = client.get(f"/api/v1/staff/applications/{application_id}", headers=staff_token("leader1")).json
    assert case["current_step"]["name"] == "sign_off"
    assert case["settlement_preview"]["hifp_pay"] == fen_to_yuan(expected_fund)
    assert [(h["step"], h["staff"]) for h in case["history"]] == [
        ("first_review", "reviewer1"), ("second_review", "reviewer2")]
    assert all(h["seconds_in_step"] >= 0 for h in case["history"])
    assert _no_settlement_yet(person)  # the preview wrote nothing

    signed = decide(client, staff_token("leader1"), application_id)
    assert signed.status_code == 200, signed.json
    assert signed.json["status"] == "approved"

    status = client.get(f"/api/v1/reimbursements/{application_id}", headers=headers).json
    assert status["status"] == "paid"  # the payment job ran after the sign-off committed
    assert status["settlement"]["hifp_pay"] == fen_to_yuan(expected_fund)
    assert [s["step"] for s in status["steps"]] == ["first_review", "second_review", "sign_off"]
    assert "staff" not in status["steps"][0]  # the applicant is not told who decided

    again = decide(client, staff_token("leader2"), application_id)
    assert (again.status_code, again.json["errors"]["reason"]) == (409, "invalid_transition")

    settlements = db.session.scalars(select(Settlement).where(Settlement.person_id == person.id)).all()
    assert [(s.source, s.application_id, s.hifp_pay) for s in settlements] == [
        ("manual", application_id, expected_fund)]
    caps = benefits.caps(person.id, VISIT.year)
    assert caps["deductible"]["used"] == fen_to_yuan(deductible)
    assert caps["general"]["used"] == fen_to_yuan(expected_fund)
    # The fund pays the payee; the individual account is not touched by a manual claim.
    assert db.session.scalar(select(func.count()).select_from(LedgerPosting)
                             .where(LedgerPosting.settlement_id == settlements[0].id)) == 0
    assert db.session.scalar(select(IndividualAccount.balance_fen)
                             .where(IndividualAccount.person_id == person.id)) == 50_000
    assert db.session.get(InvoiceRecord, "NX-INV-1").application_id == application_id

    statement = client.get(status["statement_url"], headers=headers)
    assert statement.status_code in (200, 202)
    inbox = [n["title"] for n in client.get("/api/v1/notifications", headers=headers).json]
    assert inbox == ["零星报销款已支付", "零星报销申请审核通过", "零星报销申请已通过复审", "零星报销申请已通过初审",
                     "零星报销申请已提交"]


def test_every_decision_is_audited_with_its_step_and_reason_code(client, insured, staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)

    response = decide(client, staff_token("reviewer1"), application_id, "reject", "发票抬头非本人",
                      "not_eligible")

    assert response.json["status"] == "rejected"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "application.decided"))
    assert (entry.actor_kind, entry.object_id) == ("staff", application_id)
    assert (entry.details["step"], entry.details["reason_code"]) == ("first_review", "not_eligible")


def test_a_return_goes_back_to_the_applicant_and_the_supplement_reenters_first_review(client, insured, staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)
    decide(client, staff_token("reviewer1"), application_id)
    returned = decide(client, staff_token("reviewer2"), application_id, "return", "发票图片模糊，请重新上传",
                      "materials_incomplete")
    assert returned.json["status"] == "returned"
    assert application_id not in queue_ids(client, staff_token("reviewer1"))

    client.post(f"/api/v1/reimbursements/{application_id}/attachments", headers=headers,
                data={"kind": "invoice", "file": (_stream(PNG + b"2"), "发票-清晰.png")},
                content_type="multipart/form-data")
    supplemented = client.post(f"/api/v1/reimbursements/{application_id}/supplement", headers=headers,
                               json={"comment": "已重新上传"})

    assert supplemented.status_code == 200, supplemented.json
    assert (supplemented.json["status"], supplemented.json["current_step"]["name"]) == ("in_review", "first_review")
    assert application_id in queue_ids(client, staff_token("reviewer1"))


def test_an_insured_token_on_a_staff_route_is_forbidden(client, insured):
    _, headers = insured
    application_id = file_reimbursement(client, headers)

    assert client.get("/api/v1/staff/applications", headers=headers).status_code == 403
    assert decide(client, headers, application_id).status_code == 403


def test_a_reviewer_acting_on_the_sign_off_step_is_forbidden(client, insured, staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)
    decide(client, staff_token("reviewer1"), application_id)
    decide(client, staff_token("reviewer2"), application_id)

    response = decide(client, staff_token("reviewer2"), application_id)

    assert (response.status_code, response.json["errors"]["reason"]) == (403, "wrong_role")


def test_the_same_person_cannot_act_on_two_steps_of_one_application(client, insured, staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)
    assert decide(client, staff_token("veteran"), application_id).status_code == 200

    assert application_id not in queue_ids(client, staff_token("veteran"))
    second = decide(client, staff_token("veteran"), application_id)
    assert (second.status_code, second.json["errors"]["reason"]) == (403, "already_acted_on_another_step")
    claim = client.post(f"/api/v1/staff/applications/{application_id}/claim", headers=staff_token("veteran"))
    assert claim.status_code == 403


def test_each_role_sees_only_the_step_it_decides(client, insured, staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)

    assert application_id in queue_ids(client, staff_token("reviewer1"))
    assert application_id not in queue_ids(client, staff_token("reviewer2"))
    assert application_id not in queue_ids(client, staff_token("leader1"))
    assert queue_ids(client, staff_token("admin1")) == []
    assert decide(client, staff_token("admin1"), application_id).status_code == 403


def test_a_rejection_needs_a_reason_code_from_the_fixed_list(client, insured, staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)

    response = decide(client, staff_token("reviewer1"), application_id, "reject", "看起来可疑", "looks_fishy")

    assert (response.status_code, response.json["errors"]["reason"]) == (422, "reason_required")


def test_staff_can_open_the_uploaded_files(client, insured, staff_token):
    _, headers = insured
    application_id = file_reimbursement(client, headers)
    case = client.get(f"/api/v1/staff/applications/{application_id}", headers=staff_token("reviewer1")).json
    invoice = next(a for a in case["attachments"] if a["kind"] == "invoice")

    response = client.get(f"/api/v1/staff/applications/{application_id}/attachments/{invoice['id']}",
                          headers=staff_token("reviewer1"))

    assert (response.status_code, response.mimetype, response.data) == (200, "image/png", PNG)


def _no_settlement_yet(person) -> bool:
    return db.session.scalar(select(func.count()).select_from(Settlement)
                             .where(Settlement.person_id == person.id)) == 0


def _stream(data: bytes):
    import io

    return io.BytesIO(data)
