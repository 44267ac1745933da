"""The staff API's additions: staff accounts, the audit log, person look-up (masked, audited) and the stored
承诺书 of a counter grant."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.models import AuditLog
from tests.files import png
from tests.identities import id_number

PNG = png()


@pytest.fixture
def admin(staff_headers):
    return staff_headers("admin1")


def test_an_administrator_creates_a_reviewer_who_signs_in_and_is_then_deactivated(client, admin):
    created = client.post("/api/v1/staff/users", headers=admin, json={
        "username": "reviewer9", "display_name": "初审 新人", "roles": ["first_reviewer"], "password": "a-long-secret"})
    assert created.status_code == 201 and created.json["roles"] == ["first_reviewer"]
    assert "password" not in created.json
    login = client.post("/api/v1/staff/auth/login", json={"username": "reviewer9", "password": "a-long-secret"})
    token = {"Authorization": f"Bearer {login.json['access_token']}"}
    assert client.get("/api/v1/staff/auth/me", headers=token).json["username"] == "reviewer9"

    off = client.post(f"/api/v1/staff/users/{created.json['id']}/deactivate", headers=admin)
    assert off.json["active"] is False
    assert client.get("/api/v1/staff/auth/me", headers=token).status_code == 401
    refresh = client.post("/api/v1/staff/auth/refresh", json={"refresh_token": login.json["refresh_token"]})
    assert refresh.status_code == 401
    actions = [a for a, in db.session.execute(select(AuditLog.action).where(AuditLog.object_type == "staff"))]
    assert "staff.created" in actions and "staff.deactivated" in actions


def test_staff_accounts_refuse_a_taken_username_a_short_password_and_other_roles(client, admin, staff_headers):
    body = {"username": "reviewer1", "display_name": "x", "roles": ["agent"], "password": "a-long-secret"}
    assert client.post("/api/v1/staff/users", headers=admin, json=body).json["errors"]["reason"] == "username_taken"
    short = client.post("/api/v1/staff/users", headers=admin, json={**body, "username": "x2", "password": "short"})
    assert short.status_code == 422
    assert client.get("/api/v1/staff/users", headers=staff_headers("reviewer1")).status_code == 403
    assert client.get("/api/v1/staff/users").status_code == 401


def test_an_administrator_cannot_deactivate_or_demote_themselves(client, admin):
    me = client.get("/api/v1/staff/auth/me", headers=admin).json
    my_id = next(a["id"] for a in client.get("/api/v1/staff/users", headers=admin).json
                 if a["username"] == me["username"])
    assert client.post(f"/api/v1/staff/users/{my_id}/deactivate",
                       headers=admin).json["errors"]["reason"] == "cannot_deactivate_self"
    assert client.patch(f"/api/v1/staff/users/{my_id}", headers=admin,
                        json={"roles": ["agent"]}).json["errors"]["reason"] == "cannot_demote_self"


def test_a_password_reset_ends_the_old_sessions_and_the_new_password_works(client, admin):
    reviewer_id = next(a["id"] for a in client.get("/api/v1/staff/users", headers=admin).json
                       if a["username"] == "reviewer1")
    old = client.post("/api/v1/staff/auth/login", json={"username": "reviewer1", "password": "demo-reviewer1"}).json
    assert client.post(f"/api/v1/staff/users/{reviewer_id}/password", headers=admin,
                       json={"password": "brand-new-secret"}).status_code == 200
    assert client.post("/api/v1/staff/auth/refresh", json={"refresh_token": old["refresh_token"]}).status_code == 401
    old_token = {"Authorization": f"Bearer {old['access_token']}"}
    assert client.get("/api/v1/staff/auth/me", headers=old_token).status_code == 401  # still active, token revoked
    assert client.post("/api/v1/staff/auth/login",
                       json={"username": "reviewer1", "password": "brand-new-secret"}).status_code == 200


def test_people_are_found_by_name_or_id_number_masked_and_the_search_is_audited(client, make_person, staff_headers):
    person = make_person(name="查找对象")
    agent = staff_headers("agent1")
    by_name = client.get("/api/v1/staff/people", query_string={"name": "查找"}, headers=agent)
    assert [p["name"] for p in by_name.json] == ["查找对象"]
    assert by_name.json[0]["id_number_masked"] != person.id_number and "id_number" not in by_name.json[0]
    by_id = client.get("/api/v1/staff/people", query_string={"id_number": person.id_number}, headers=agent)
    assert by_id.json[0]["person_id"] == person.id
    assert client.get("/api/v1/staff/people", query_string={"id_number": "12"},
                      headers=agent).json["errors"]["reason"] == "query_too_short"
    searches = db.session.scalars(select(AuditLog).where(AuditLog.action == "read.person_search")).all()
    assert len(searches) == 2 and person.id_number not in str([s.details for s in searches])


def test_the_full_id_number_is_revealed_only_with_a_purpose_and_audited(client, make_person, staff_headers):
    person = make_person()
    agent = staff_headers("agent1")
    path = f"/api/v1/staff/people/{person.id}/id-number"
    assert client.post(path, json={"purpose": ""}, headers=agent).status_code == 422
    shown = client.post(path, json={"purpose": "核对证件"}, headers=agent)
    assert shown.json == {"id_number": person.id_number}
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "read.id_number"))
    assert entry.object_id == str(person.id) and entry.details == {"purpose": "核对证件"}
    assert client.post(path, json={"purpose": "x"}, headers=staff_headers("leader1")).status_code == 403


def test_the_audit_log_filters_by_who_what_object_and_time(client, admin, staff_headers, make_person):
    person = make_person()
    client.get(f"/api/v1/staff/people/{person.id}", headers=staff_headers("agent1"))
    client.post("/api/v1/staff/auth/login", json={"username": "agent1", "password": "wrong"})
    reads = client.get("/api/v1/staff/audit-log", query_string={"group": "reads", "actor": "agent1"}, headers=admin)
    assert [e["action"] for e in reads.json["items"]] == ["read.person"]
    assert reads.json["items"][0]["actor"] == "agent1"
    failed = client.get("/api/v1/staff/audit-log", query_string={"group": "failed_logins"}, headers=admin)
    assert [e["object_id"] for e in failed.json["items"]] == ["agent1"]
    by_object = client.get("/api/v1/staff/audit-log", query_string={"object_type": "person",
                                                                    "object_id": str(person.id)}, headers=admin)
    assert by_object.json["total"] == 1
    later = client.get("/api/v1/staff/audit-log", query_string={"since": "2999-01-01T00:00:00+08:00"}, headers=admin)
    assert later.json["total"] == 0
    assert client.get("/api/v1/staff/audit-log", headers=staff_headers("leader1")).status_code == 403


def test_a_counter_grant_keeps_its_scanned_promise_which_staff_can_download_again(client, make_person,
                                                                                  staff_headers, tmp_path, app):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    owner = make_person(id_number=id_number("19800101", male=True), name="授权人", opening_balance_fen=10_000)
    relative = make_person(id_number=id_number("19820101", male=False), name="亲属")  # his wife
    agent = staff_headers("agent1")
    granted = client.post("/api/v1/staff/counter/sharing/grants", headers=agent, data={
        "owner_id_number": owner.id_number, "relative_name": "亲属", "relative_id_number": relative.id_number,
        "relation": "spouse", "promise": (__import__("io").BytesIO(PNG), "promise.png")},
        content_type="multipart/form-data")
    assert granted.status_code == 201, granted.json
    grant_id = granted.json["grant_id"]
    scan = client.get(f"/api/v1/staff/sharing/grants/{grant_id}/promise", headers=agent)
    assert scan.status_code == 200 and scan.data == PNG and scan.mimetype == "image/png"
    missing = client.get(f"/api/v1/staff/sharing/grants/{grant_id}/promise?which=revoke", headers=agent)
    assert missing.json["errors"]["reason"] == "promise_not_stored"
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "read.promise")) == "read.promise"
