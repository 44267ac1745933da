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
