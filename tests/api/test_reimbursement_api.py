"""Manual reimbursement from the mini-program API (DESIGN §4.9): filing, uploads, status, withdraw, and the same
invoice never paid twice across direct settlement and reimbursement (NX §25)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Application, Attachment, Institution, StaffUser
from backend.services import tokens
from backend.services.benefits import local_today
from tests.conftest import signed_request
from tests.files import pdf, png

VISIT = local_today() - dt.timedelta(days=3)
PNG = png()
PDF = pdf()


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(UPLOAD_DIR=str(tmp_path / "uploads"), STATEMENT_DIR=str(tmp_path / "statements"))
    with app.app_context():
        yield app


@pytest.fixture
def insured(make_person, person_headers):
    person = make_person(name="报销人")
    return person, person_headers(person)


def body(**overrides) -> dict:
    return {
        "visit_date": VISIT.isoformat(), "institution_name": "宁夏医科大学总医院", "hospital_level": "tertiary",
        "cross_province": False, "self_paid_by_choice": False,
        "invoices": [{"number": "FP-100", "amount": "120.50", "electronic": False}],
        "items": [{"name": "药品费", "amount": "100.00", "in_scope": True},
                  {"name": "自费材料", "amount": 20.5, "in_scope": False}],
        "payee": {"kind": "bank_card", "bank_name": "中国银行", "account_number": "6217000010002000",
                  "account_name": "报销人"},
        **overrides,
    }


def upload(client, headers, application_id, kind, filename, data):
    return client.post(f"/api/v1/reimbursements/{application_id}/attachments", headers=headers,
                       data={"kind": kind, "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def test_filing_answers_201_with_the_application_and_what_is_still_missing(client, insured):
    _, headers = insured

    response = client.post("/api/v1/reimbursements", headers=headers, json=body())

    assert response.status_code == 201, response.json
    assert response.json["status"] == "submitted"
    assert response.json["application_id"].startswith("RB")
    assert response.json["claimed_amount"] == "120.50"
    assert response.json["payee"]["account_number"] == "****2000"
    assert {m["kind"] for m in response.json["missing_materials"]} == {"invoice", "fee_list"}


def test_materials_upload_completes_the_application(client, insured):
    _, headers = insured
    application_id = client.post("/api/v1/reimbursements", headers=headers, json=body()).json["application_id"]

    assert upload(client, headers, application_id, "invoice", "发票.png", PNG).status_code == 201
    uploaded = upload(client, headers, application_id, "fee_list", "费用清单.pdf", PDF)

    assert (uploaded.status_code, uploaded.json["content_type"]) == (201, "application/pdf")
    status = client.get(f"/api/v1/reimbursements/{application_id}", headers=headers).json
    assert status["missing_materials"] == []
    assert sorted(a["kind"] for a in status["attachments"]) == ["fee_list", "invoice"]


@pytest.mark.parametrize("overrides, reason", [
    ({"invoices": []}, "materials_incomplete"),
    ({"items": [{"name": "药品费", "amount": "100.00", "in_scope": True}]}, "amount_mismatch"),
    ({"visit_date": (local_today() + dt.timedelta(days=1)).isoformat()}, "visit_date_in_future"),
    ({"visit_date": "2001-01-01"}, "visit_before_coverage"),
    ({"self_paid_by_choice": True}, "self_paid_by_choice"),
])
def test_each_refusal_has_its_own_reason_and_saves_nothing(client, insured, overrides, reason):
    _, headers = insured

    response = client.post("/api/v1/reimbursements", headers=headers, json=body(**overrides))

    assert (response.status_code, response.json["errors"]["reason"]) == (422, reason)
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_a_malformed_amount_is_a_validation_error(client, insured):
    _, headers = insured
    bad = body(invoices=[{"number": "FP-1", "amount": "12.345", "electronic": True}])

    response = client.post("/api/v1/reimbursements", headers=headers, json=bad)

    assert (response.status_code, response.json["errors"]["reason"]) == (422, "validation_error")


def test_a_file_that_is_not_what_its_name_says_is_refused_and_nothing_is_stored(client, insured, tmp_path):
    _, headers = insured
    application_id = client.post("/api/v1/reimbursements", headers=headers, json=body()).json["application_id"]

    response = upload(client, headers, application_id, "invoice", "发票.jpg", PDF)

    assert (response.status_code, response.json["errors"]["reason"]) == (422, "file_type_mismatch")
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert not any(p.is_file() for p in (tmp_path / "uploads").rglob("*"))


def test_an_oversized_upload_is_refused_and_nothing_is_stored(make_app, make_person, tmp_path):
    app = make_app(UPLOAD_DIR=str(tmp_path / "uploads"), MAX_CONTENT_LENGTH=4096)
    with app.app_context():
        client = app.test_client()
        person = make_person(name="大文件")
        login = client.post("/api/v1/auth/dev-login", json={"id_number": person.id_number}).json
        headers = {"Authorization": f"Bearer {login['access_token']}"}
        application_id = client.post("/api/v1/reimbursements", headers=headers, json=body()).json["application_id"]

        response = upload(client, headers, application_id, "invoice", "发票.png", PNG + b"\x00" * 8192)

        assert response.status_code == 413
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
        assert not any(p.is_file() for p in (tmp_path / "uploads").rglob("*"))


def test_the_same_file_uploaded_again_is_stored_once(client, insured):
    _, headers = insured
    application_id = client.post("/api/v1/reimbursements", headers=headers, json=body()).json["application_id"]

    first = upload(client, headers, application_id, "invoice", "发票.png", PNG)
    retry = upload(client, headers, application_id, "invoice", "发票.png", PNG)  # e.g. the answer was lost

    assert (first.status_code, retry.status_code, retry.json["id"]) == (201, 201, first.json["id"])
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 1


def test_an_unknown_attachment_kind_is_refused(client, insured):
    _, headers = insured
    application_id = client.post("/api/v1/reimbursements", headers=headers, json=body()).json["application_id"]

    assert upload(client, headers, application_id, "selfie", "我.png", PNG).status_code == 422


def test_the_insured_see_only_their_own_applications(client, insured, make_person, person_headers):
    _, headers = insured
    application_id = client.post("/api/v1/reimbursements", headers=headers, json=body()).json["application_id"]
    stranger = person_headers(make_person(name="路人"))

    assert client.get(f"/api/v1/reimbursements/{application_id}", headers=stranger).status_code == 404
    assert upload(client, stranger, application_id, "invoice", "a.png", PNG).status_code == 404
    assert client.post(f"/api/v1/reimbursements/{application_id}/withdraw", headers=stranger).status_code == 404
    assert client.get("/api/v1/reimbursements", headers=stranger).json == []
    assert [a["application_id"] for a in client.get("/api/v1/reimbursements", headers=headers).json] == [
        application_id]


def test_withdrawing_before_any_decision_ends_the_application_and_frees_the_invoice(client, insured):
    _, headers = insured
    application_id = client.post("/api/v1/reimbursements", headers=headers, json=body()).json["application_id"]

    withdrawn = client.post(f"/api/v1/reimbursements/{application_id}/withdraw", headers=headers)

    assert (withdrawn.status_code, withdrawn.json["status"]) == (200, "withdrawn")
    assert client.post("/api/v1/reimbursements", headers=headers, json=body()).status_code == 201


def test_a_returned_reimbursement_may_be_corrected_and_the_correction_is_checked_again(client, insured):
    _, headers = insured
    application_id = client.post("/api/v1/reimbursements", headers=headers, json=body(
        invoices=[{"number": "FP-100", "amount": "120.50", "electronic": True}])).json["application_id"]
    upload(client, headers, application_id, "fee_list", "费用清单.pdf", PDF)
    _decide(client, "reviewer1", application_id, "return", "费用清单显示药品费为 90 元，请更正", "amount_mismatch")
    corrected_items = [{"name": "药品费", "amount": "90.00", "in_scope": True},
                       {"name": "自费材料", "amount": "20.50", "in_scope": False}]

    mismatched = client.post(f"/api/v1/reimbursements/{application_id}/supplement", headers=headers,
                             json={"items": corrected_items})
    corrected = client.post(f"/api/v1/reimbursements/{application_id}/supplement", headers=headers, json={
        "items": corrected_items, "invoices": [{"number": "FP-100", "amount": "110.50", "electronic": True}]})

    assert (mismatched.status_code, mismatched.json["errors"]["reason"]) == (422, "amount_mismatch")
    assert (corrected.status_code, corrected.json["status"]) == (200, "in_review")
    assert (corrected.json["claimed_amount"], corrected.json["current_step"]["name"]) == ("110.50", "first_review")


def test_filing_twice_with_the_same_idempotency_key_creates_one_application(client, insured):
    _, headers = insured
    keyed = {**headers, "Idempotency-Key": "rb-1"}

    first = client.post("/api/v1/reimbursements", headers=keyed, json=body())
    second = client.post("/api/v1/reimbursements", headers=keyed, json=body())

    assert first.json["application_id"] == second.json["application_id"]
    assert db.session.scalar(select(func.count()).select_from(Application)) == 1


# --- the same invoice across direct settlement and reimbursement (NX §25) -------------------------------------------
@pytest.fixture
def signed_post(client, app):
    """Signed requests from one tertiary hospital (made here: the whole demo data is not needed)."""
    db.session.add(Institution(code="NX-T-001", name="宁夏医科大学总医院", kind="hospital", level="tertiary",
                               grade="甲", region_code="nx", secret="demo-secret-NX-T-001"))
    db.session.commit()
    return lambda path, payload: signed_request(client, path, payload, "NX-T-001")


def direct_settlement(signed_post, person, invoice_no):
    return signed_post("/api/v1/institution/settlements", {
        "id_number": person.id_number, "visit_date": VISIT.isoformat(), "med_type": "general",
        "items": [{"code": "A1", "name": "药品费", "amount": "120.50", "in_scope": True}],
        "use_account": False, "invoice_no": invoice_no, "order_no": f"ORD-{invoice_no}",
    })


def test_an_invoice_settled_directly_cannot_be_reimbursed(client, insured, signed_post):
    person, headers = insured
    assert direct_settlement(signed_post, person, "FP-100").status_code in (200, 201)

    response = client.post("/api/v1/reimbursements", headers=headers, json=body())

    assert (response.status_code, response.json["errors"]["reason"]) == (409, "invoice_duplicate")
    assert response.json["errors"]["numbers"] == ["FP-100"]


def test_an_invoice_settled_directly_after_filing_stops_the_sign_off(client, insured, signed_post, app):
    person, headers = insured
    application_id = client.post("/api/v1/reimbursements", headers=headers, json=body(
        invoices=[{"number": "FP-100", "amount": "120.50", "electronic": True}])).json["application_id"]
    upload(client, headers, application_id, "fee_list", "费用清单.pdf", PDF)
    for username in ("reviewer1", "reviewer2"):
        assert _decide(client, username, application_id).status_code == 200
    assert direct_settlement(signed_post, person, "FP-100").status_code in (200, 201)

    case = client.get(f"/api/v1/staff/applications/{application_id}", headers=_staff("leader1")).json
    signed = _decide(client, "leader1", application_id)

    assert case["invoices_already_used"] == ["FP-100"]
    assert (signed.status_code, signed.json["errors"]["reason"]) == (409, "invoice_duplicate")
    rejected = _decide(client, "leader1", application_id, "reject", "该发票已在医院直接结算", "invoice_duplicate")
    assert rejected.json["status"] == "rejected"


def test_a_reimbursed_invoice_cannot_then_be_settled_directly(client, insured, signed_post):
    person, headers = insured
    application_id = client.post("/api/v1/reimbursements", headers=headers, json=body(
        invoices=[{"number": "FP-100", "amount": "120.50", "electronic": True}])).json["application_id"]
    upload(client, headers, application_id, "fee_list", "费用清单.pdf", PDF)
    for username in ("reviewer1", "reviewer2", "leader1"):
        assert _decide(client, username, application_id).status_code == 200

    response = direct_settlement(signed_post, person, "FP-100")

    assert response.status_code == 409
    assert client.get(f"/api/v1/reimbursements/{application_id}", headers=headers).json["status"] == "paid"


ROLES = {"reviewer1": ["first_reviewer"], "reviewer2": ["second_reviewer"], "leader1": ["leader"]}


def _staff(username: str) -> dict[str, str]:
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if staff is None:
        staff = StaffUser(username=username, display_name=username, password_hash="!", roles=ROLES[username])
        db.session.add(staff)
        db.session.commit()
    return {"Authorization": f"Bearer {tokens.issue_access_token('staff', str(staff.id), roles=staff.roles)}"}


def _decide(client, username, application_id, decision="approve", comment=None, reason_code=None):
    return client.post(f"/api/v1/staff/applications/{application_id}/decisions", headers=_staff(username),
                       json={"decision": decision, "comment": comment, "reason_code": reason_code})
