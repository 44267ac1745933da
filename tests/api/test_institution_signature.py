"""Signed institution requests (DESIGN §4.6): each failure has its own reason code."""

import time


def test_a_correctly_signed_request_is_accepted(signed_post):
    response = signed_post("/api/v1/institution/ping", {"hello": "你好"})
    assert response.status_code == 200
    assert response.json["institution_code"] == "NX-T-001"


def test_a_bad_signature_is_refused(signed_post):
    response = signed_post("/api/v1/institution/ping", {"a": 1}, secret="not-the-secret")
    assert response.status_code == 401
    assert response.json["errors"]["reason"] == "signature_invalid"


def test_a_body_changed_after_signing_is_refused(client, demo_data):
    from backend.web.signature import sign

    stamp = str(int(time.time()))
    signature = sign("demo-secret-NX-T-001", stamp, b'{"amount": 1}')
    response = client.post("/api/v1/institution/ping", data=b'{"amount": 1000}', content_type="application/json",
                           headers={"X-Institution-Code": "NX-T-001", "X-Timestamp": stamp,
                                    "X-Signature": signature})
    assert response.json["errors"]["reason"] == "signature_invalid"


def test_a_timestamp_older_than_five_minutes_is_refused(signed_post):
    response = signed_post("/api/v1/institution/ping", {"a": 1}, timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert response.json["errors"]["reason"] == "timestamp_stale"


def test_a_timestamp_from_the_future_beyond_the_window_is_refused(signed_post):
    response = signed_post("/api/v1/institution/ping", {"a": 1}, timestamp=int(time.time()) + 400)
    assert response.json["errors"]["reason"] == "timestamp_stale"


def test_a_replayed_request_is_refused(client, demo_data):
    from backend.web.signature import sign

    stamp, body = str(int(time.time())), b'{"order": "A1"}'
    headers = {"X-Institution-Code": "NX-S-001", "X-Timestamp": stamp,
               "X-Signature": sign("demo-secret-NX-S-001", stamp, body)}
    first = client.post("/api/v1/institution/ping", data=body, content_type="application/json", headers=headers)
    again = client.post("/api/v1/institution/ping", data=body, content_type="application/json", headers=headers)
    assert first.status_code == 200
    assert again.status_code == 401
    assert again.json["errors"]["reason"] == "request_replayed"


def test_an_unknown_institution_and_missing_headers_are_refused(signed_post, client):
    unknown = signed_post("/api/v1/institution/ping", {"a": 1}, code="XX-0")
    assert unknown.json["errors"]["reason"] == "institution_unknown"
    bare = client.post("/api/v1/institution/ping", json={"a": 1})
    assert bare.status_code == 401
    assert bare.json["errors"]["reason"] == "signature_missing"


def test_the_signature_check_does_not_depend_on_the_hex_case(signed_post, client):
    from backend.web.signature import sign

    stamp, body = str(int(time.time())), b"{}"
    upper = sign("demo-secret-NM-T-001", stamp, body).upper()
    response = client.post("/api/v1/institution/ping", data=body, content_type="application/json",
                           headers={"X-Institution-Code": "NM-T-001", "X-Timestamp": stamp, "X-Signature": upper})
    assert response.status_code == 200


# --- version 2: method and path are signed too --------------------------------------------------------------

def v2_headers(method: str, path: str, body: bytes, code: str = "NX-T-001", stamp: str | None = None) -> dict:
    from backend.web.signature import sign_v2

    stamp = stamp or str(int(time.time()))
    return {"X-Institution-Code": code, "X-Timestamp": stamp, "X-Signature-Version": "2",
            "X-Signature": sign_v2(f"demo-secret-{code}", method, path, stamp, body)}


def test_a_version_2_signature_over_method_path_timestamp_and_body_is_accepted(client, demo_data):
    body = b'{"hello": 1}'
    response = client.post("/api/v1/institution/ping", data=body, content_type="application/json",
                           headers=v2_headers("POST", "/api/v1/institution/ping", body))
    assert response.status_code == 200


def test_a_version_2_signature_for_another_path_is_refused(client, demo_data):
    body = b"{}"
    headers = v2_headers("POST", "/api/v1/institution/settlements", body)
    response = client.post("/api/v1/institution/ping", data=body, content_type="application/json", headers=headers)
    assert response.json["errors"]["reason"] == "signature_invalid"


def test_with_version_2_the_same_body_to_two_paths_in_one_second_is_not_a_replay(client, demo_data):
    stamp, body = str(int(time.time())), b"{}"
    first = client.post("/api/v1/institution/ping", data=body, content_type="application/json",
                        headers=v2_headers("POST", "/api/v1/institution/ping", body, stamp=stamp))
    second = client.post("/api/v1/institution/ping?probe=2", data=body, content_type="application/json",
                         headers=v2_headers("POST", "/api/v1/institution/ping?probe=2", body, stamp=stamp))
    assert (first.status_code, second.status_code) == (200, 200)


def test_an_unknown_signature_version_is_refused(client, demo_data):
    headers = {**v2_headers("POST", "/api/v1/institution/ping", b"{}"), "X-Signature-Version": "3"}
    response = client.post("/api/v1/institution/ping", data=b"{}", content_type="application/json", headers=headers)
    assert response.json["errors"]["reason"] == "signature_version_unsupported"


def test_version_1_is_refused_after_its_transition_date(make_app, demo_data):
    from tests.conftest import signed_request

    app = make_app(INSTITUTION_SIGNATURE_V1_UNTIL="2020-01-01")
    with app.app_context():
        response = signed_request(app.test_client(), "/api/v1/institution/ping", {"a": 1})
    assert response.json["errors"]["reason"] == "signature_version_retired"


def test_institution_secrets_are_stored_encrypted_and_read_back_plain(client, demo_data):
    from sqlalchemy import select, text

    from backend.extensions import db
    from backend.models import Institution

    stored = db.session.execute(text("SELECT secret FROM institutions WHERE code = 'NX-T-001'")).scalar()
    assert "demo-secret" not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert db.session.scalar(select(Institution.secret).where(Institution.code == "NX-T-001")) == \
        "demo-secret-NX-T-001"
