"""The Idempotency-Key header (DESIGN §2), exercised on a signed institution write."""

import hashlib
import time

from backend import demo
from backend.services import idempotency
from tests.conftest import signed_request

PING_SCOPE = "institution:NX-T-001:POST:/api/v1/institution/ping"
EMPTY_BODY_HASH = hashlib.sha256(b"{}").hexdigest()  # what signed_request sends for {}


def test_the_same_key_and_body_get_the_stored_response(signed_post):
    first = signed_post("/api/v1/institution/ping", {"n": 1}, headers={"Idempotency-Key": "k-1"})
    time.sleep(1.1)  # the endpoint answers with the time: a replay must not run it again
    second = signed_post("/api/v1/institution/ping", {"n": 1}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 200
    assert second.json == first.json
    assert second.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_refused(signed_post):
    signed_post("/api/v1/institution/ping", {"n": 1}, headers={"Idempotency-Key": "k-2"})
    other = signed_post("/api/v1/institution/ping", {"n": 2}, headers={"Idempotency-Key": "k-2"})
    assert other.status_code == 422
    assert other.json["errors"]["reason"] == "idempotency_key_reused"


def test_keys_are_scoped_to_the_caller(signed_post):
    ours = signed_post("/api/v1/institution/ping", {"n": 1}, headers={"Idempotency-Key": "shared"})
    theirs = signed_post("/api/v1/institution/ping", {"n": 1}, code="NM-T-001", headers={"Idempotency-Key": "shared"})
    assert ours.json["institution_code"] == "NX-T-001"
    assert theirs.json["institution_code"] == "NM-T-001"


def test_a_duplicate_arriving_while_the_first_still_runs_gets_409(signed_post, app):
    idempotency.begin(PING_SCOPE, "k-3", EMPTY_BODY_HASH)
    response = signed_post("/api/v1/institution/ping", {}, headers={"Idempotency-Key": "k-3"})
    assert response.status_code == 409
    assert response.json["errors"]["reason"] == "idempotency_request_in_progress"


def test_a_request_abandoned_past_the_lock_timeout_can_be_retried(make_app):
    app = make_app(IDEMPOTENCY_LOCK_SECONDS=-1)
    with app.app_context():
        demo.seed()
        idempotency.begin(PING_SCOPE, "k-4", EMPTY_BODY_HASH)
        response = signed_request(app.test_client(), "/api/v1/institution/ping", {},
                                  headers={"Idempotency-Key": "k-4"})
        assert response.status_code == 200


def test_a_malformed_key_is_refused(signed_post):
    response = signed_post("/api/v1/institution/ping", {}, headers={"Idempotency-Key": "x" * 200})
    assert response.status_code == 422
    assert response.json["errors"]["reason"] == "idempotency_key_invalid"


def test_a_completed_request_is_recorded_with_its_response(signed_post):
    from backend.extensions import db
    from backend.models import IdempotencyRecord

    first = signed_post("/api/v1/institution/ping", {"n": 1}, headers={"Idempotency-Key": "k-5"})
    record = db.session.query(IdempotencyRecord).filter_by(key="k-5").one()
    assert record.state == "done" and record.response_status == 200
    assert record.response_body == first.get_data(as_text=True)


def test_without_a_key_every_request_runs(signed_post):
    from backend.extensions import db
    from backend.models import IdempotencyRecord

    signed_post("/api/v1/institution/ping", {"n": 1})
    assert db.session.query(IdempotencyRecord).count() == 0
