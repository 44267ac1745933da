"""Chronic diseases (NX §15–§17): certifying hospitals post qualifications, 二级甲等+ hospitals (or the agency, for
people living out of province) register cap-adjustment requests, the agency reviews them and the raised cap
applies at once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from backend.domain.money import fen_to_yuan
from backend.extensions import db
from backend.models import ChronicQualification, Institution, StaffUser
from backend.services import policies, tokens
from backend.services.benefits import local_today
from tests.conftest import signed_request

# (code, kind, level, grade, region, certifier)
HOSPITALS = (
    ("NX-T-001", "hospital", "tertiary", "甲", "nx", True),
    ("NX-S-009", "hospital", "secondary", "乙", "nx", False),
    ("NX-P-001", "pharmacy", "primary", None, "nx", False),
    ("NM-T-001", "hospital", "tertiary", "甲", "nm", True),
)
ROLES = {"reviewer1": ["first_reviewer"], "reviewer2": ["second_reviewer"], "leader1": ["leader"],
         "agent1": ["agent"]}


@pytest.fixture
def hospitals(app):
    for code, kind, level, grade, region, certifier in HOSPITALS:
        db.session.add(Institution(code=code, name=f"机构{code}", kind=kind, level=level, grade=grade,
                                   region_code=region, secret=f"demo-secret-{code}", is_chronic_certifier=certifier))
    db.session.commit()


@pytest.fixture
def post(client, hospitals):
    def signed(path: str, body: dict, code: str = "NX-T-001", **kwargs):
        return signed_request(client, f"/api/v1/institution/chronic{path}", body, code, **kwargs)

    return signed


@pytest.fixture
def patient(make_person):
    return make_person(name="慢病患者")


def staff(username: str) -> dict[str, str]:
    member = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if member is None:
        member = StaffUser(username=username, display_name=username, password_hash="!", roles=ROLES[username])
        db.session.add(member)
        db.session.commit()
    return {"Authorization": f"Bearer {tokens.issue_access_token('staff', str(member.id), roles=member.roles)}"}


def qualify(post, person, code="NX-T-001", **kwargs):
    return post("/qualifications", {"id_number": person.id_number, "disease_code": "M03900",
                                    "disease_name": "高血压", "valid_from": "2020-01-01"}, code, **kwargs)


def decide(client, username, application_id, decision="approve"):
    return client.post(f"/api/v1/staff/applications/{application_id}/decisions", headers=staff(username),
                       json={"decision": decision})


def test_a_certifying_hospital_posts_a_qualification_the_person_then_sees(client, post, patient, person_headers):
    now = int(time.time())
    created = qualify(post, patient, timestamp=now)
    again = qualify(post, patient, timestamp=now - 1)  # signed anew: a replayed signature would be refused

    assert created.status_code == 201, created.json
    assert (again.status_code, again.json["qualification_id"]) == (200, created.json["qualification_id"])
    mine = client.get("/api/v1/chronic/qualifications", headers=person_headers(patient)).json
    assert [(q["disease_name"], q["certified_by"]["code"], q["cap_adjustment"]) for q in mine] == [
        ("高血压", "NX-T-001", "0.00")]


def test_only_certifying_hospitals_of_the_persons_region_may_certify(post, patient):
    not_certifier = qualify(post, patient, "NX-P-001")
    other_region = qualify(post, patient, "NM-T-001")

    assert (not_certifier.status_code, not_certifier.json["errors"]["reason"]) == (403, "not_chronic_certifier")
    assert (other_region.status_code, other_region.json["errors"]["reason"]) == (422, "person_out_of_region")


def test_the_registry_lists_the_certifying_hospitals_by_region(client, hospitals):
    response = client.get("/api/v1/chronic/certifiers?region=nx")

    assert [i["code"] for i in response.json] == ["NX-T-001"]


def test_an_approved_cap_adjustment_raises_the_chronic_cap_at_once(client, post, patient, person_headers):
    qualify(post, patient)
    headers = person_headers(patient)
    policy_cap = policies.in_force("nx", local_today()).benefits.chronic.cap_fen.of("employed")
    before = client.get("/api/v1/benefits/caps", headers=headers).json["chronic"]["allowed"]

    filed = post("/cap-adjustments", {"id_number": patient.id_number, "disease_code": "M03900",
                                      "cap_increase": "5000.00", "reason": "需长期联合用药"})
    assert filed.status_code == 201, filed.json
    application_id = filed.json["application_id"]
    assert decide(client, "reviewer1", application_id).json["current_step"]["name"] == "sign_off"
    assert client.get("/api/v1/benefits/caps", headers=headers).json["chronic"]["allowed"] == before
    signed = decide(client, "leader1", application_id)

    assert signed.json["status"] == "approved"
    caps = client.get("/api/v1/benefits/caps", headers=headers).json
    assert before == fen_to_yuan(policy_cap)
    assert caps["chronic"]["allowed"] == fen_to_yuan(policy_cap + 500_000)
    assert db.session.scalar(select(ChronicQualification.cap_adjustment_fen)) == 500_000
    status = client.get(f"/api/v1/applications/{application_id}", headers=headers).json
    assert (status["status"], status["cap_increase"], status["filed_at"]["code"]) == ("approved", "5000.00",
                                                                                     "NX-T-001")


def test_the_cap_adjustment_review_is_first_review_then_sign_off(client, post, patient):
    qualify(post, patient)
    application_id = post("/cap-adjustments", {"id_number": patient.id_number, "disease_code": "M03900",
                                               "cap_increase": 800}).json["application_id"]

    assert decide(client, "reviewer2", application_id).status_code == 403
    decide(client, "reviewer1", application_id)
    assert decide(client, "reviewer1", application_id).status_code == 403


def test_requests_are_registered_only_at_hospitals_of_second_grade_a_or_above(post, patient):
    qualify(post, patient)
    body = {"id_number": patient.id_number, "disease_code": "M03900", "cap_increase": "100.00"}

    for code in ("NX-S-009", "NX-P-001"):
        response = post("/cap-adjustments", body, code)
        assert (response.status_code, response.json["errors"]["reason"]) == (403, "institution_not_eligible")


def test_a_request_needs_the_qualification_it_adjusts(post, patient):
    response = post("/cap-adjustments", {"id_number": patient.id_number, "disease_code": "M03900",
                                         "cap_increase": "100.00"})

    assert (response.status_code, response.json["errors"]["reason"]) == (422, "no_chronic_qualification")


def test_only_people_living_out_of_province_apply_to_the_agency_directly(client, post, make_person, person_headers):
    at_home = make_person(name="本地")
    away = make_person(name="异地", living_out_of_province=True)
    body = {"disease_code": "M03900", "cap_increase": "300.00"}
    for person in (at_home, away):
        qualify(post, person)

    refused = client.post("/api/v1/chronic/cap-adjustments", headers=person_headers(at_home), json=body)
    accepted = client.post("/api/v1/chronic/cap-adjustments", headers=person_headers(away), json=body)

    assert (refused.status_code, refused.json["errors"]["reason"]) == (422, "cap_adjust_at_hospital")
    assert (accepted.status_code, accepted.json["status"], accepted.json["channel"]) == (201, "submitted", "online")
    again = client.post("/api/v1/chronic/cap-adjustments", headers=person_headers(away), json=body)
    assert (again.status_code, again.json["errors"]["reason"]) == (409, "application_open")


def test_counter_staff_register_a_request_for_someone_living_out_of_province(client, post, make_person):
    away = make_person(name="异地", living_out_of_province=True)
    qualify(post, away)

    response = client.post("/api/v1/staff/chronic/cap-adjustments", headers=staff("agent1"), json={
        "id_number": away.id_number, "disease_code": "M03900", "cap_increase": "300.00"})

    assert (response.status_code, response.json["channel"]) == (201, "counter")
