"""Signing in and out of the console: the session cookie, the idle timeout, failed sign-ins recorded and limited,
deactivation taking effect at once, and CSRF on every form."""

from __future__ import annotations

from sqlalchemy import select

from backend.extensions import db
from backend.models import AuditLog, StaffSession


def test_signing_in_opens_the_dashboard_and_signing_out_closes_the_session(console):
    visitor = console("reviewer1")
    page = visitor.get("/staff/")
    assert page.status_code == 200 and "审核工作台" in page.get_data(as_text=True)
    assert visitor.post("/staff/sign-out").status_code == 302
    assert visitor.get("/staff/").headers["Location"].startswith("/staff/sign-in")
    session = db.session.scalar(select(StaffSession))
    assert session.end_reason == "sign_out"
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"staff.login", "staff.logout"} <= actions


def test_the_session_cookie_is_http_only_same_site_lax_and_secure_unless_configured_off(make_app, staff_member):
    app = make_app(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        staff_member("reviewer1")
        client = app.test_client()
        page = client.get("/staff/sign-in")
        from tests.console.conftest import csrf_token

        response = client.post("/staff/sign-in", data={"username": "reviewer1", "password": "demo-reviewer1",
                                                       "csrf_token": csrf_token(page.get_data(as_text=True))})
        cookie = response.headers["Set-Cookie"]
        assert response.status_code == 302
        for attribute in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/staff"):
            assert attribute in cookie


def test_a_wrong_password_is_refused_recorded_and_after_five_failures_even_the_right_one_is_refused(console,
                                                                                                   staff_member):
    staff_member("reviewer1")
    visitor = console()
    for _ in range(5):
        refused = visitor.sign_in("reviewer1", "wrong-password")
        assert refused.status_code == 401 and "用户名或密码错误" in refused.get_data(as_text=True)
    blocked = visitor.sign_in("reviewer1")
    assert blocked.status_code == 429 and "登录失败次数过多" in blocked.get_data(as_text=True)
    failures = db.session.scalars(select(AuditLog).where(AuditLog.action == "staff.login_failed")).all()
    assert [f.details["reason"] for f in failures] == ["invalid_credentials"] * 5 + ["too_many_failures"]
    assert {f.object_id for f in failures} == {"reviewer1"}


def test_the_json_sign_in_counts_failures_against_the_same_limit(client, console, staff_member):
    staff_member("reviewer1")
    for _ in range(5):
        assert client.post("/api/v1/staff/auth/login",
                           json={"username": "reviewer1", "password": "nope"}).status_code == 401
    response = console().sign_in("reviewer1")
    assert response.status_code == 429


def test_an_idle_session_ends(make_app, staff_member):
    from tests.console.conftest import Console

    app = make_app(STAFF_SESSION_IDLE_SECONDS=-1)  # every request comes "after" the idle limit
    with app.app_context():
        staff_member("reviewer1")
        visitor = Console(app.test_client())
        assert visitor.sign_in("reviewer1").status_code == 302
        assert visitor.get("/staff/").status_code == 302
        assert db.session.scalar(select(StaffSession.end_reason)) == "idle"


def test_deactivating_an_account_ends_its_console_session_and_its_api_token_at_once(console, client, staff_member):
    reviewer = console("reviewer1")
    token = client.post("/api/v1/staff/auth/login",
                        json={"username": "reviewer1", "password": "demo-reviewer1"}).json["access_token"]
    admin = console("admin1")
    reviewer_id = staff_member("reviewer1").id
    assert admin.post(f"/staff/admin/users/{reviewer_id}/deactivate").status_code == 302
    assert reviewer.get("/staff/").status_code == 302
    me = client.get("/api/v1/staff/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert (me.status_code, me.json["errors"]["reason"]) == (401, "token_revoked")
    assert console().sign_in("reviewer1").status_code == 401


def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(console, staff_member):
    admin = console("admin1")
    refused = admin.post("/staff/admin/users", {"username": "newbie", "display_name": "新人", "roles": "agent",
                                                "password": "long-enough-1"}, csrf=False)
    assert refused.status_code == 400 and "安全令牌" in refused.get_data(as_text=True)
    forged = admin.client.post("/staff/admin/users", data={"username": "newbie", "display_name": "新人",
                                                           "roles": "agent", "password": "long-enough-1",
                                                           "csrf_token": "forged"})
    assert forged.status_code == 400
    assert "newbie" not in admin.get("/staff/admin/users").get_data(as_text=True)


def test_sign_in_never_redirects_off_the_console(console, staff_member):
    staff_member("reviewer1")
    visitor = console()
    visitor.get("/staff/sign-in?next=https://evil.example/")
    response = visitor.post("/staff/sign-in", {"username": "reviewer1", "password": "demo-reviewer1",
                                               "next": "https://evil.example/"})
    assert response.headers["Location"] == "/staff/"


def test_a_deactivated_accounts_token_is_refused_even_when_the_revocation_list_is_empty(console, client, app,
                                                                                      staff_member):
    reviewer = staff_member("reviewer1")
    token = client.post("/api/v1/staff/auth/login",
                        json={"username": "reviewer1", "password": "demo-reviewer1"}).json["access_token"]
    admin = console("admin1")
    assert admin.post(f"/staff/admin/users/{reviewer.id}/deactivate").status_code == 302
    app.extensions["redis"].flushdb()  # Redis lost its memory: the account's state in the database still decides
    with app.app_context():  # a request of its own, as when served (not this test's session and its cache)
        me = client.get("/api/v1/staff/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert (me.status_code, me.json["errors"]["reason"]) == (401, "staff_inactive")
