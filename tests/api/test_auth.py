"""Sign-in: WeChat/Alipay against a fake platform on loopback, bind, tokens, refresh rotation, staff login."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from backend.services.tokens import AUDIENCES
from tests.fakes.miniapp_platforms import FakeMiniappPlatforms


@pytest.fixture
def platforms():
    with FakeMiniappPlatforms() as fake:
        yield fake


@pytest.fixture
def platform_client(make_app, platforms):
    app = make_app(
        WECHAT_API_BASE=platforms.wechat_base_url, WECHAT_APPID=platforms.wechat_appid,
        WECHAT_SECRET=platforms.wechat_secret, ALIPAY_GATEWAY=platforms.alipay_gateway_url,
        ALIPAY_APP_ID=platforms.alipay_app_id, ALIPAY_PRIVATE_KEY=platforms.alipay_app_private_key_pem,
        ALIPAY_PUBLIC_KEY=platforms.alipay_public_key_pem, PLATFORM_TIMEOUT_SECONDS=2.0,
    )
    with app.app_context():
        yield app.test_client()


@pytest.fixture
def person(make_person, platform_client):
    return make_person(name="马晓梅")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_new_wechat_user_binds_with_name_and_id_number_and_is_then_signed_in_directly(
        platform_client, platforms, person):
    platforms.add_wechat_user("code-1", openid="o-mxm", unionid="u-mxm")
    first = platform_client.post("/api/v1/auth/wechat", json={"code": "code-1"})
    assert first.status_code == 200
    assert first.json["bound"] is False and "access_token" not in first.json
    assert "session_key" not in first.get_data(as_text=True)
    assert all(key not in first.get_data(as_text=True) for key in platforms.issued_session_keys)

    bound = platform_client.post("/api/v1/auth/bind", headers=bearer(first.json["bind_token"]),
                                 json={"name": "马晓梅", "id_number": person.id_number})
    assert bound.status_code == 200
    assert bound.json["person"]["id_number_masked"] == person.id_number[:6] + "********" + person.id_number[-4:]
    assert person.id_number not in bound.get_data(as_text=True)
    me = platform_client.get("/api/v1/auth/me", headers=bearer(bound.json["access_token"]))
    assert me.json["name"] == "马晓梅"

    platforms.add_wechat_user("code-2", openid="o-mxm")
    again = platform_client.post("/api/v1/auth/wechat", json={"code": "code-2"})
    assert again.json["bound"] is True
    assert again.json["person"]["name"] == "马晓梅"


def test_an_alipay_user_signs_in_and_binds_the_same_way(platform_client, platforms, person):
    platforms.add_alipay_user("auth-1", user_id="2088000000000001")
    first = platform_client.post("/api/v1/auth/alipay", json={"auth_code": "auth-1"})
    assert first.status_code == 200 and first.json["bound"] is False
    bound = platform_client.post("/api/v1/auth/bind", headers=bearer(first.json["bind_token"]),
                                 json={"name": "马晓梅", "id_number": person.id_number})
    assert bound.status_code == 200
    platforms.add_alipay_user("auth-2", user_id="2088000000000001")
    assert platform_client.post("/api/v1/auth/alipay", json={"auth_code": "auth-2"}).json["bound"] is True


def test_an_invalid_wechat_code_is_refused_and_an_outage_is_a_503(platform_client, platforms):
    refused = platform_client.post("/api/v1/auth/wechat", json={"code": "never-issued"})
    assert refused.status_code == 401
    assert refused.json["errors"]["reason"] == "wechat_code_invalid"
    platforms.simulate_outage("http_500", platform="wechat")
    down = platform_client.post("/api/v1/auth/wechat", json={"code": "any"})
    assert down.status_code == 503
    assert down.json["errors"]["reason"] == "wechat_unavailable"


def _bind_token(platform_client, platforms, openid="o-x"):
    platforms.add_wechat_user(f"code-{openid}", openid=openid)
    return platform_client.post("/api/v1/auth/wechat", json={"code": f"code-{openid}"}).json["bind_token"]


def test_binding_with_a_wrong_check_digit_says_so(platform_client, platforms, person):
    wrong = person.id_number[:17] + ("0" if person.id_number[17] != "0" else "1")
    response = platform_client.post("/api/v1/auth/bind", headers=bearer(_bind_token(platform_client, platforms)),
                                    json={"name": "马晓梅", "id_number": wrong})
    assert response.status_code == 422
    assert response.json["errors"] == {"reason": "id_number_invalid", "problem": "checksum"}


def test_binding_an_unknown_person_or_a_wrong_name_gives_the_same_answer(platform_client, platforms, person):
    token = _bind_token(platform_client, platforms)
    from tests.conftest import valid_id_number

    unknown = platform_client.post("/api/v1/auth/bind", headers=bearer(token),
                                   json={"name": "马晓梅", "id_number": valid_id_number("64010419700101123")})
    wrong_name = platform_client.post("/api/v1/auth/bind", headers=bearer(token),
                                      json={"name": "马晓兰", "id_number": person.id_number})
    assert unknown.status_code == wrong_name.status_code == 422
    assert unknown.json == wrong_name.json
    assert unknown.json["errors"]["reason"] == "identity_mismatch"


def test_a_region_code_created_after_the_birth_date_is_accepted(platform_client, platforms, make_person):
    # 640104 (兴庆区) was created in 2002; people born in 1958 carry it after re-registration.
    elder = make_person(id_number="640104195803150014", name="张建国", person_type="retired")
    response = platform_client.post("/api/v1/auth/bind", headers=bearer(_bind_token(platform_client, platforms)),
                                    json={"name": "张建国", "id_number": elder.id_number})
    assert response.status_code == 200


def test_more_than_five_failed_binds_in_an_hour_are_refused_even_with_the_right_pair(
        platform_client, platforms, person):
    token = _bind_token(platform_client, platforms)
    for _ in range(5):
        failed = platform_client.post("/api/v1/auth/bind", headers=bearer(token),
                                      json={"name": "别人", "id_number": person.id_number})
        assert failed.status_code == 422
    blocked = platform_client.post("/api/v1/auth/bind", headers=bearer(token),
                                   json={"name": "马晓梅", "id_number": person.id_number})
    assert blocked.status_code == 429
    assert blocked.json["errors"]["reason"] == "too_many_bind_attempts"
    other_user = _bind_token(platform_client, platforms, openid="o-other")
    assert platform_client.post("/api/v1/auth/bind", headers=bearer(other_user),
                                json={"name": "马晓梅", "id_number": person.id_number}).status_code == 200


def test_bind_needs_a_bind_token_not_an_access_token(platform_client, person, person_headers):
    response = platform_client.post("/api/v1/auth/bind", headers=person_headers(person),
                                    json={"name": "马晓梅", "id_number": person.id_number})
    assert response.status_code == 403
    assert response.json["errors"]["reason"] == "token_audience_mismatch"


def _forged(app, **claims):
    now = dt.datetime.now(dt.timezone.utc)
    payload = {"iss": app.config["JWT_ISSUER"], "aud": AUDIENCES["insured"], "sub": "1",
               "iat": now, "exp": now + dt.timedelta(minutes=5), **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, app.config["SECRET_KEY"],
                      algorithm="HS256")


def test_an_expired_access_token_is_refused(client, app):
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    response = client.get("/api/v1/auth/me", headers=bearer(_forged(app, exp=past, iat=past)))
    assert response.status_code == 401
    assert response.json["errors"]["reason"] == "token_expired"


def test_a_token_missing_a_required_claim_is_refused(client, app):
    response = client.get("/api/v1/auth/me", headers=bearer(_forged(app, iss=None)))
    assert response.status_code == 401
    assert response.json["errors"]["reason"] == "token_invalid"


def test_an_unsigned_alg_none_token_is_refused(client, app):
    now = dt.datetime.now(dt.timezone.utc)
    unsigned = jwt.encode({"iss": app.config["JWT_ISSUER"], "aud": AUDIENCES["insured"], "sub": "1",
                           "iat": now, "exp": now + dt.timedelta(minutes=5)}, key=None, algorithm="none")
    response = client.get("/api/v1/auth/me", headers=bearer(unsigned))
    assert response.status_code == 401
    assert response.json["errors"]["reason"] == "token_invalid"


def test_a_token_signed_with_another_key_is_refused(client, app):
    now = dt.datetime.now(dt.timezone.utc)
    other = jwt.encode({"iss": app.config["JWT_ISSUER"], "aud": AUDIENCES["insured"], "sub": "1", "iat": now,
                        "exp": now + dt.timedelta(minutes=5)}, "not-our-key-" * 4, algorithm="HS256")
    assert client.get("/api/v1/auth/me", headers=bearer(other)).status_code == 401


def test_a_staff_token_is_refused_by_the_insured_api_and_the_other_way_round(
        client, staff_headers, make_person, person_headers):
    assert client.get("/api/v1/auth/me", headers=staff_headers("reviewer1")).status_code == 403
    person = make_person()
    response = client.get("/api/v1/staff/auth/me", headers=person_headers(person))
    assert response.status_code == 403
    assert response.json["errors"]["reason"] == "token_audience_mismatch"


def test_a_refresh_token_rotates_and_a_spent_one_revokes_its_whole_family(client, make_person):
    person = make_person()
    login = client.post("/api/v1/auth/dev-login", json={"id_number": person.id_number}).json
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert second.status_code == 200
    assert second.json["refresh_token"] != login["refresh_token"]

    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert replay.status_code == 401
    assert replay.json["errors"]["reason"] == "refresh_token_reused"
    # The thief's replay also kills the legitimate holder's newer token.
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": second.json["refresh_token"]})
    assert after.status_code == 401


def test_refresh_tokens_are_stored_only_as_hashes(client, make_person, app):
    from backend.extensions import db
    from backend.models import RefreshToken

    person = make_person()
    raw = client.post("/api/v1/auth/dev-login", json={"id_number": person.id_number}).json["refresh_token"]
    stored = [t.token_hash for t in db.session.query(RefreshToken).all()]
    assert raw not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_sign_out_ends_the_refresh_token(client, make_person):
    person = make_person()
    login = client.post("/api/v1/auth/dev-login", json={"id_number": person.id_number}).json
    assert client.post("/api/v1/auth/logout", json={"refresh_token": login["refresh_token"]}).status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": login["refresh_token"]}).status_code == 401


def test_staff_sign_in_gives_a_staff_token_with_roles_and_refuses_a_wrong_password(client, staff_headers):
    me = client.get("/api/v1/staff/auth/me", headers=staff_headers("leader1"))
    assert me.status_code == 200
    assert me.json["roles"] == ["leader"]
    wrong = client.post("/api/v1/staff/auth/login", json={"username": "leader1", "password": "guess"})
    assert wrong.status_code == 401
    assert wrong.json["errors"]["reason"] == "invalid_credentials"
    nobody = client.post("/api/v1/staff/auth/login", json={"username": "nobody", "password": "guess"})
    assert nobody.json == wrong.json


def test_staff_passwords_are_stored_hashed(app, demo_data):
    from backend.extensions import db
    from backend.models import StaffUser

    stored = db.session.query(StaffUser).filter_by(username="leader1").one().password_hash
    assert "demo-leader1" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_dev_login_refuses_an_unknown_person(client):
    from tests.conftest import valid_id_number

    response = client.post("/api/v1/auth/dev-login", json={"id_number": valid_id_number("64010419700101123")})
    assert response.status_code == 404
    assert response.json["errors"]["reason"] == "person_not_found"
