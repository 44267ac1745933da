"""One-time payout of the individual account on death or emigration (NX §9): who may apply, the materials, the
three review steps, and at sign-off the balance paid out with the account closed — or the account kept in use."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.models import IndividualAccount, LedgerPosting, StaffUser
from backend.services import tokens
from tests.files import pdf, png

PNG = png()
PDF = pdf()
ROLES = {"reviewer1": ["first_reviewer"], "reviewer2": ["second_reviewer"], "leader1": ["leader"],
         "leader2": ["leader"]}
BANK = {"bank_name": "宁夏银行", "account_number": "6222020011112345", "account_name": "继承人"}


@pytest.fixture
def app(make_app, tmp_path):
    app = make_app(UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        yield app


@pytest.fixture
def family(make_person, person_headers):
    """An employee who died with 1234.56 yuan on the account, and the child who applies as heir."""
    deceased = make_person(name="已故职工", person_type="employed", opening_balance_fen=123_456)
    heir = make_person(name="继承人")
    return deceased, heir, person_headers(heir)


def staff(username: str) -> dict[str, str]:
    member = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if member is None:
        member = StaffUser(username=username, display_name=username, password_hash="!", roles=ROLES[username])
        db.session.add(member)
        db.session.commit()
    return {"Authorization": f"Bearer {tokens.issue_access_token('staff', str(member.id), roles=member.roles)}"}


def apply(client, headers, person, **overrides):
    return client.post("/api/v1/payouts", headers=headers, json={
        "person": {"name": person.name, "id_number": person.id_number}, "reason": "death",
        "disposition": "payout", "applicant_relation": "child", "bank_account": BANK, **overrides})


def upload_all(client, headers, application_id, kinds):
    for kind in kinds:
        response = client.post(f"/api/v1/applications/{application_id}/attachments", headers=headers,
                               data={"kind": kind, "file": (io.BytesIO(PDF + kind.encode()), f"{kind}.pdf")},
                               content_type="multipart/form-data")
        assert response.status_code == 201, response.json


def sign_off(client, application_id):
    for username in ("reviewer1", "reviewer2", "leader1"):
        response = client.post(f"/api/v1/staff/applications/{application_id}/decisions", headers=staff(username),
                               json={"decision": "approve"})
        assert response.status_code == 200, response.json
    return response


def account_of(person) -> IndividualAccount:
    db.session.expire_all()
    return db.session.scalar(select(IndividualAccount).where(IndividualAccount.person_id == person.id))


def test_an_heir_is_paid_the_balance_and_the_account_is_closed(client, family):
    deceased, _, headers = family
    created = apply(client, headers, deceased)
    assert created.status_code == 201, created.json
    application_id = created.json["application_id"]
    # NX §9: certificate, signed 承诺书, a copy of the bank account, and for an employee the employer's form.
    assert {m["kind"] for m in created.json["missing_materials"]} == {
        "certificate", "promise", "bank_card", "reduction_form"}

    upload_all(client, headers, application_id, ["certificate", "promise", "bank_card", "reduction_form"])
    signed = sign_off(client, application_id)

    assert (signed.json["status"], signed.json["payout_amount"]) == ("approved", "1234.56")
    status = client.get(f"/api/v1/applications/{application_id}", headers=headers).json
    assert status["status"] == "paid"
    account = account_of(deceased)
    assert (account.status, account.balance_fen) == ("closed", 0)
    postings = db.session.scalars(select(LedgerPosting).where(LedgerPosting.kind == "one_time_payout")).all()
    assert [(p.entries[0].amount_fen, p.business_key.endswith(application_id)) for p in postings] == [
        (123_456, True)]

    again = client.post(f"/api/v1/staff/applications/{application_id}/decisions", headers=staff("leader2"),
                        json={"decision": "approve"})
    assert (again.status_code, again.json["errors"]["reason"]) == (409, "invalid_transition")
    assert len(db.session.scalars(select(LedgerPosting).where(LedgerPosting.kind == "one_time_payout")).all()) == 1


def test_the_account_may_instead_continue_in_use(client, family):
    deceased, _, headers = family
    application_id = apply(client, headers, deceased, disposition="continue_in_use",
                           bank_account=None).json["application_id"]
    upload_all(client, headers, application_id, ["certificate", "promise", "reduction_form"])

    signed = sign_off(client, application_id)

    assert signed.json["status"] == "approved"
    account = account_of(deceased)
    assert (account.status, account.balance_fen) == ("open", 123_456)


def test_a_retired_persons_heir_needs_no_employer_form(client, make_person, family):
    _, _, headers = family
    retiree = make_person(name="已故退休人员", person_type="retired", opening_balance_fen=100)

    created = apply(client, headers, retiree)

    assert {m["kind"] for m in created.json["missing_materials"]} == {"certificate", "promise", "bank_card"}


def test_on_death_the_applicant_must_be_an_heir(client, family, person_headers):
    deceased, _, _ = family

    response = apply(client, person_headers(deceased), deceased)

    assert (response.status_code, response.json["errors"]["reason"]) == (422, "applicant_must_be_heir")


def test_on_emigration_the_insured_person_applies_themselves(client, family, person_headers):
    emigrant, _, heir_headers = family

    by_other = apply(client, heir_headers, emigrant, reason="emigration")
    by_self = client.post("/api/v1/payouts", headers=person_headers(emigrant), json={
        "reason": "emigration", "disposition": "payout", "bank_account": BANK})

    assert (by_other.status_code, by_other.json["errors"]["reason"]) == (422, "applicant_must_be_insured")
    assert (by_self.status_code, by_self.json["applicant_relation"]) == (201, "self")


def test_a_name_that_does_not_match_the_id_number_finds_nobody(client, family):
    deceased, _, headers = family

    response = client.post("/api/v1/payouts", headers=headers, json={
        "person": {"name": "别人", "id_number": deceased.id_number}, "reason": "death", "disposition": "payout",
        "applicant_relation": "child", "bank_account": BANK})

    assert (response.status_code, response.json["errors"]["reason"]) == (404, "person_not_found")


def test_a_payout_needs_the_bank_account(client, family):
    deceased, _, headers = family

    response = apply(client, headers, deceased, bank_account=None)

    assert (response.status_code, response.json["errors"]["reason"]) == (422, "materials_incomplete")


def test_a_second_payout_application_for_the_same_person_is_refused(client, family):
    deceased, _, headers = family
    apply(client, headers, deceased)

    response = apply(client, headers, deceased)

    assert (response.status_code, response.json["errors"]["reason"]) == (409, "application_open")


def test_the_heir_follows_the_application_and_the_deceased_is_masked(client, family):
    deceased, _, headers = family
    application_id = apply(client, headers, deceased).json["application_id"]

    mine = client.get("/api/v1/payouts", headers=headers).json
    case = client.get(f"/api/v1/staff/applications/{application_id}", headers=staff("reviewer1")).json

    assert [a["application_id"] for a in mine] == [application_id]
    assert case["person"]["id_number_masked"] != deceased.id_number
    assert case["bank_account"]["account_number"] == "****2345"
    assert case["account"] == {"status": "open", "balance": "1234.56"}


def test_the_payout_list_shows_the_amount_and_when_it_was_paid(client, family):
    deceased, _, headers = family
    application_id = apply(client, headers, deceased).json["application_id"]
    upload_all(client, headers, application_id, ["certificate", "promise", "bank_card", "reduction_form"])
    sign_off(client, application_id)
    listed = client.get("/api/v1/payouts", headers=headers).json
    entry = next(item for item in listed if item["application_id"] == application_id)
    assert entry["status"] == "paid"
    assert entry["payout_amount"] == "1234.56" and entry["paid_at"]  # issue #11.8: not null for a paid payout
