"""Counter services (NX §7–§9): sharing on a person's behalf with the signed 承诺书, transfer-out, payout."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.domain import ledger as rules
from backend.errors import Conflict
from backend.extensions import db
from backend.models import AuditLog, LedgerPosting, SharingGrant, StaffUser
from backend import demo
from backend.services import accounts, tokens
from tests.conftest import valid_id_number
from tests.files import pdf
from tests.identities import id_number

COUNTER = "/api/v1/staff/counter/sharing/grants"
SIGNED_PDF = pdf("signed promise, scanned at the counter")


@pytest.fixture(autouse=True)
def uploads_in_tmp(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    return tmp_path


@pytest.fixture
def family(make_person):
    owner = make_person(id_number=id_number("19620109", male=True), name="马海", person_type="retired",
                        opening_balance_fen=260_000)
    son = make_person(id_number=id_number("19900101", male=True), name="马小军")
    return owner, son


@pytest.fixture
def staff_headers(app):
    """Bearer headers of a staff member with the demo roles (README), without hashing a password per test."""
    roles = {username: roles for username, _, roles in demo.DEMO_STAFF}

    def headers(username: str) -> dict[str, str]:
        staff = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if staff is None:
            staff = StaffUser(username=username, display_name=username, password_hash="!", roles=roles[username])
            db.session.add(staff)
            db.session.commit()
        return {"Authorization": f"Bearer {tokens.issue_access_token('staff', str(staff.id))}"}

    return headers


def counter_form(owner, relative, relation="son", promise=(SIGNED_PDF, "promise.pdf")):
    form = {"owner_id_number": owner.id_number, "relative_name": relative.name,
            "relative_id_number": relative.id_number, "relation": relation}
    if promise is not None:
        form["promise"] = (io.BytesIO(promise[0]), promise[1])
    return form


def grant_at_counter(client, headers, owner, relative, **kwargs):
    return client.post(COUNTER, data=counter_form(owner, relative, **kwargs), headers=headers,
                       content_type="multipart/form-data")


def test_a_first_reviewer_grants_at_the_counter_with_the_signed_promise(client, family, staff_headers, uploads_in_tmp):
    owner, son = family
    response = grant_at_counter(client, staff_headers("reviewer1"), owner, son)
    assert response.status_code == 201, response.json
    assert (response.json["status"], response.json["channel"]) == ("active", "counter")
    assert response.json["granted_at_counter"] is True
    stored = db.session.get(SharingGrant, response.json["grant_id"])
    assert (Path(uploads_in_tmp) / stored.signed_promise_path).read_bytes() == SIGNED_PDF
    audit = db.session.scalar(select(AuditLog).where(AuditLog.object_id == stored.id))
    assert (audit.actor_kind, audit.action) == ("staff", "sharing.grant")


def test_an_admin_revokes_at_the_counter_and_the_paper_is_kept(client, family, staff_headers):
    owner, son = family
    headers = staff_headers("admin1")
    grant_id = grant_at_counter(client, headers, owner, son).json["grant_id"]
    revoked = client.post(f"{COUNTER}/{grant_id}/revoke", headers=headers, content_type="multipart/form-data",
                          data={"owner_id_number": owner.id_number,
                                "promise": (io.BytesIO(SIGNED_PDF), "revoke.pdf")})
    assert revoked.status_code == 200, revoked.json
    assert (revoked.json["status"], revoked.json["revoke_channel"]) == ("revoked", "counter")
    audit = db.session.scalar(select(AuditLog).where(AuditLog.object_id == grant_id,
                                                     AuditLog.action == "sharing.revoke"))
    assert audit.details["signed_promise_path"]


def test_a_grant_of_someone_else_cannot_be_revoked_in_the_owners_name(client, family, make_person, staff_headers):
    owner, son = family
    headers = staff_headers("reviewer1")
    grant_id = grant_at_counter(client, headers, owner, son).json["grant_id"]
    response = client.post(f"{COUNTER}/{grant_id}/revoke", headers=headers, content_type="multipart/form-data",
                           data={"owner_id_number": son.id_number, "promise": (io.BytesIO(SIGNED_PDF), "r.pdf")})
    assert (response.status_code, response.json["errors"]["reason"]) == (404, "grant_not_found")


def test_the_clerk_looks_up_a_persons_grants_both_ways(client, family, staff_headers):
    owner, son = family
    headers = staff_headers("reviewer1")
    grant_at_counter(client, headers, owner, son)
    found = client.get(COUNTER, query_string={"id_number": son.id_number}, headers=headers)
    assert [g["direction"] for g in found.json] == ["received"]


def test_only_counter_staff_may_act(client, family, staff_headers):
    owner, son = family
    for username in ("reviewer2", "leader1"):
        response = grant_at_counter(client, staff_headers(username), owner, son)
        assert (response.status_code, response.json["errors"]["reason"]) == (403, "role_required")
    assert grant_at_counter(client, {}, owner, son).status_code == 401


def test_a_grant_needs_the_signed_promise_as_a_pdf_or_image(client, family, staff_headers):
    owner, son = family
    headers = staff_headers("reviewer1")
    assert grant_at_counter(client, headers, owner, son, promise=None).status_code == 422
    wrong = grant_at_counter(client, headers, owner, son, promise=(b"just text", "promise.pdf"))
    assert (wrong.status_code, wrong.json["errors"]["reason"]) == (422, "file_type_not_allowed")
    assert db.session.scalar(select(SharingGrant.id).where(SharingGrant.owner_person_id == owner.id)) is None


def test_the_policy_checks_apply_at_the_counter_too(client, family, make_person, staff_headers):
    owner, son = family
    headers = staff_headers("reviewer1")
    unknown = client.post(COUNTER, headers=headers, content_type="multipart/form-data",
                          data={**counter_form(owner, son), "owner_id_number": valid_id_number("64010419990101001")})
    assert (unknown.status_code, unknown.json["errors"]["reason"]) == (422, "owner_not_found")
    cousin = grant_at_counter(client, headers, owner, son, relation="cousin")
    assert (cousin.status_code, cousin.json["errors"]["reason"]) == (422, "relation_not_allowed")
    # The son born 28 years after the owner cannot be his father, nor a man his daughter (ID numbers).
    for relation, reason in (("father", "relation_age_implausible"), ("daughter", "relation_sex_mismatch")):
        wrong = grant_at_counter(client, headers, owner, son, relation=relation)
        assert (wrong.status_code, wrong.json["errors"]["reason"]) == (422, reason)
        assert wrong.json["message"]
    assert db.session.scalar(select(SharingGrant.id).where(SharingGrant.owner_person_id == owner.id)) is None


# --- closing an account: transfer-out (NX §8) and the one-time payout (NX §9) -------------------------------
def transfer_out(client, headers, person, destination="广东省广州市医保中心"):
    return client.post(f"/api/v1/staff/accounts/{person.id}/transfer-out", json={"destination": destination},
                       headers=headers)


def test_a_transfer_out_moves_the_whole_balance_and_closes_the_account(client, family, staff_headers):
    owner, son = family
    headers = staff_headers("admin1")
    grant_id = grant_at_counter(client, headers, owner, son).json["grant_id"]
    moved = transfer_out(client, headers, owner)
    assert moved.status_code == 200, moved.json
    assert (moved.json["amount"], moved.json["status"], moved.json["grants_ended"]) == ("2600.00", "closed", 1)
    account = accounts.of_person(owner.id)
    assert (account.balance_fen, account.closed_reason) == (0, "transfer_out")
    posting = db.session.scalar(select(LedgerPosting).where(LedgerPosting.kind == "transfer_out"))
    assert {(e.account_code, e.side, e.amount_fen) for e in posting.entries} == {
        (rules.personal_account_code(account.id), "debit", 260_000),
        (rules.CLEARING_TRANSFER_OUT, "credit", 260_000)}
    assert db.session.get(SharingGrant, grant_id).status == "revoked"


def test_a_closed_account_cannot_be_transferred_twice_and_only_an_admin_may_do_it(client, family, staff_headers):
    owner, _ = family
    assert transfer_out(client, staff_headers("reviewer1"), owner).status_code == 403
    assert transfer_out(client, staff_headers("admin1"), owner).status_code == 200
    again = transfer_out(client, staff_headers("admin1"), owner)
    assert (again.status_code, again.json["errors"]["reason"]) == (409, "account_closed")


def test_the_payout_pays_the_balance_once_and_closes_the_account(app, make_person):
    deceased = make_person(name="已故", opening_balance_fen=123_456)
    assert accounts.pay_out_balance(deceased.id, business_key="payout:A1") == 123_456
    db.session.commit()
    assert accounts.pay_out_balance(deceased.id, business_key="payout:A1") == 123_456  # the same payout
    assert accounts.pay_out_balance(deceased.id, business_key="payout:A2") == 0  # nothing left to pay
    db.session.commit()
    account = accounts.of_person(deceased.id)
    assert (account.status, account.closed_reason, account.balance_fen) == ("closed", "payout", 0)
    assert db.session.scalar(select(func.count()).select_from(LedgerPosting)
                             .where(LedgerPosting.kind == "one_time_payout")) == 1


def test_a_transferred_account_is_not_paid_out(app, make_person):
    moved = make_person(name="已转出", opening_balance_fen=100)
    accounts.transfer_out(moved.id, staff_id=None, destination="北京市")
    with pytest.raises(Conflict) as refused:
        accounts.pay_out_balance(moved.id, business_key="payout:C1")
    assert refused.value.reason == "account_closed"


def test_an_account_continued_in_use_keeps_its_balance(app, make_person):
    emigrated = make_person(name="出国定居", opening_balance_fen=5_000)
    assert accounts.pay_out_balance(emigrated.id, business_key="payout:B1", continue_in_use=True) == 0
    account = accounts.of_person(emigrated.id)
    assert (account.status, account.balance_fen) == ("open", 5_000)
