"""Input no person sends, from anyone (logged in or not): always the error shape with a 4xx, never a 500."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from backend.models import LedgerPosting
from backend.extensions import db
from backend.services import tokens
from backend.web.input_hygiene import MAX_JSON_DEPTH, MAX_URL_BYTES


def assert_error_shape(response, status: int, reason: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.json
    assert body["code"] == status and body["errors"]["reason"] == reason and body["message"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", ["/api/v1/auth/dev-login", "/api/v1/staff/auth/login", "/api/v1/chat/nlu"])
def test_json_nested_too_deep_is_refused_before_any_view(client, path):
    response = client.post(path, data=nested(500), content_type="application/json")
    assert_error_shape(response, 400, "json_too_deep")


def test_json_just_within_the_depth_limit_reaches_the_schema(client):
    body = json.dumps({"id_number": json.loads(nested(MAX_JSON_DEPTH - 1))})
    response = client.post("/api/v1/auth/dev-login", data=body, content_type="application/json")
    assert response.status_code == 422  # the schema's own refusal: not a string


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    body = json.dumps({"id_number": "[" * 500})
    response = client.post("/api/v1/auth/dev-login", data=body, content_type="application/json")
    assert response.status_code == 422 and response.json["errors"]["reason"] != "json_too_deep"


@pytest.mark.parametrize("path", ["/api/v1/applications/a%00b", "/api/v1/sharing/grants/%00"])
def test_a_nul_byte_in_the_path_is_refused(client, path):
    assert_error_shape(client.get(path), 422, "invalid_characters")


def test_a_url_over_4_kb_gets_the_error_shape(client):
    response = client.get("/api/v1/account/entries?year=" + "1" * MAX_URL_BYTES)
    assert_error_shape(response, 414, "uri_too_long")


def test_a_page_number_beyond_any_integer_is_an_empty_page(client, make_person, person_headers):
    person = make_person(opening_balance_fen=1_000)
    response = client.get("/api/v1/account/entries?page=" + "9" * 30, headers=person_headers(person))
    assert response.status_code == 200 and response.json == []
    first = client.get("/api/v1/account/entries?page=1", headers=person_headers(person))
    assert len(first.json) == 1  # the opening balance: the clamp leaves ordinary pages alone


@pytest.mark.parametrize("audience, path", [("insured", "/api/v1/account"),
                                            ("staff", "/api/v1/staff/applications")])
def test_a_signed_token_whose_subject_is_not_a_number_is_refused(client, audience, path):
    token = tokens.issue_access_token(audience, "not-a-number")
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert_error_shape(response, 401, "token_invalid")


def test_a_bind_token_with_a_malformed_subject_is_refused(client):
    token = tokens.issue_access_token("bind", "no-platform-here")
    response = client.post("/api/v1/auth/bind", json={"name": "张三", "id_number": "640104198506120314"},
                           headers={"Authorization": f"Bearer {token}"})
    assert_error_shape(response, 401, "token_invalid")


@pytest.mark.parametrize("amount", [" 1.00", "1.00 ", "１００", "1e2", "+1", "0x10"])
def test_amounts_are_plain_ascii_decimals(client, make_person, person_headers, amount):
    person = make_person(opening_balance_fen=100_000)
    response = client.post("/api/v1/account/contributions", headers=person_headers(person),
                           json={"kind": "long_term_care", "amount": amount})
    assert response.status_code == 422, response.json
    assert db.session.scalar(select(func.count()).select_from(LedgerPosting)
                             .where(LedgerPosting.kind != "opening_balance")) == 0


@pytest.mark.parametrize("year", [2026.5, "２０２６", " 2026", True])
def test_a_contribution_year_must_be_a_whole_number(client, make_person, person_headers, year):
    person = make_person(opening_balance_fen=100_000)
    response = client.post("/api/v1/account/contributions", headers=person_headers(person),
                           json={"kind": "long_term_care", "amount": "10.00", "year": year})
    assert response.status_code == 422
    assert "year" in response.json["errors"]["fields"]["json"]


def test_a_nameless_multipart_part_is_refused(client, make_person, person_headers):
    person = make_person()
    boundary = "xyz"
    body = (f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--{boundary}--\r\n").encode()
    response = client.post("/api/v1/reimbursements/some-id/attachments", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}", headers=person_headers(person))
    assert_error_shape(response, 400, "form_field_unnamed")


@pytest.mark.parametrize("line", [1.5, 1.0, "１"])
def test_a_refund_line_number_must_be_a_whole_number(signed_post, line):
    response = signed_post("/api/v1/institution/settlements/ST-NONE/refund", {"refund_no": "R1", "line_nos": [line]})
    assert response.status_code == 422
    assert "line_nos" in response.json["errors"]["fields"]["json"]
