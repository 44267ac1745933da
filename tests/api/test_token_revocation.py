"""Access tokens stop working at sign-out and at deactivation, not up to 15 minutes later (issue 12)."""

from __future__ import annotations

from backend.domain.people import PersonRecord
from backend.extensions import db
from backend.services import people


def sign_in(client, person) -> dict:
    return client.post("/api/v1/auth/dev-login", json={"id_number": person.id_number}).json


def test_signing_out_ends_the_access_token_of_the_session_at_once(client, make_person):
    person = make_person()
    tokens = sign_in(client, person)
    other_session = sign_in(client, person)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 200
    assert client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    response = client.get("/api/v1/auth/me", headers=bearer)
    assert response.status_code == 401 and response.json["errors"]["reason"] == "token_revoked"
    # Another device's session is another family: it goes on.
    assert client.get("/api/v1/auth/me",
                      headers={"Authorization": f"Bearer {other_session['access_token']}"}).status_code == 200


def test_a_terminated_person_is_signed_out_everywhere(client, make_person):
    person = make_person()
    bearer = {"Authorization": f"Bearer {sign_in(client, person)['access_token']}"}
    record = PersonRecord(id_number=person.id_number, name=person.name, region="nx", person_type="employed",
                          status="terminated", contribution_base_fen=600_000, monthly_credit_fen=0)
    people.upsert(record)
    db.session.commit()
    response = client.get("/api/v1/auth/me", headers=bearer)
    assert response.status_code == 401 and response.json["errors"]["reason"] == "token_revoked"
