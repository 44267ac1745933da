"""Caps are honest about what a visit would get now, with the reason (issue #11.4, NM §11), and every figure
computed from a sample parameter says so (issue #11.5)."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.extensions import db
from backend.models import ChronicQualification
from backend.services.benefits import local_today
from tests.benefits_fixtures import (  # noqa: F401  (module fixtures shared by the benefits API tests)
    SETTLE,
    app,
    body_for,
    fresh_session,
    item,
    make_person,
    signed_post,
    written_rows,
)

CAPS = "/api/v1/benefits/caps"
ESTIMATE = "/api/v1/benefits/estimate"
CHAT = "/api/v1/chat/messages"


def qualify(person, code="I10"):
    db.session.add(ChronicQualification(person_id=person.id, disease_code=code, disease_name="高血压",
                                        valid_from=dt.date(2020, 1, 1), status="active"))
    db.session.commit()


@pytest.fixture
def nm_chronic_patient(make_person):
    person = make_person(region="nm")
    qualify(person)
    return person


def test_with_an_active_chronic_qualification_nm_caps_show_no_general_pooling_left_and_say_why(
        client, nm_chronic_patient, person_headers):
    caps = client.get(CAPS, headers=person_headers(nm_chronic_patient)).json
    general = caps["general"]
    assert (general["allowed"], general["used"], general["remaining"]) == ("4000.00", "0.00", "0.00")
    assert (general["available"], general["reasons"]) == (False, ["general_excluded_by_chronic"])
    assert "不同时享受普通门诊统筹" in general["note"]
    assert caps["chronic"]["available"] is True and caps["chronic"]["remaining"] != "0.00"


def test_caps_estimate_settlement_and_chatbot_say_the_same_for_the_chronic_patient(
        client, nm_chronic_patient, person_headers, signed_post):
    headers = person_headers(nm_chronic_patient)
    estimate = client.post(ESTIMATE, json={"amount": "3000", "hospital_level": "tertiary"}, headers=headers).json
    assert estimate["hifp_pay"] == "0.00" and "general_excluded_by_chronic" in estimate["reasons"]
    settled = signed_post(SETTLE, body_for(nm_chronic_patient, item("3000"), visit_date=local_today().isoformat()),
                          code="NM-T-001").json
    assert settled["hifp_pay"] == "0.00" and "general_excluded_by_chronic" in settled["reasons"]
    answer = client.post(CHAT, json={"text": "我今年还剩多少报销额度"}, headers=headers).json
    said = "".join(reply.get("text", "") for reply in answer["replies"])
    assert "普通门诊统筹年度支付限额 4000.00 元，已支付 0.00 元，剩余 0.00 元" in said
    assert "不同时享受普通门诊统筹" in said


def test_a_person_without_a_chronic_qualification_has_no_chronic_money_left(client, make_person, person_headers):
    caps = client.get(CAPS, headers=person_headers(make_person(region="nm"))).json
    assert (caps["chronic"]["remaining"], caps["chronic"]["reasons"]) == ("0.00", ["chronic_not_qualified"])
    assert caps["general"]["available"] is True


def test_ningxia_figures_are_labelled_as_samples_in_caps_estimates_and_settlements(client, make_person,
                                                                                   person_headers, signed_post):
    person = make_person(region="nx")
    headers = person_headers(person)
    caps = client.get(CAPS, headers=headers).json
    assert caps["sample"]["is_sample"] is True and "样例" in caps["sample"]["label"]
    assert all(caps[name]["sample"] for name in ("deductible", "general", "chronic", "combined"))
    estimate = client.post(ESTIMATE, json={"amount": "3000", "hospital_level": "tertiary"}, headers=headers).json
    assert estimate["sample"]["is_sample"] is True
    assert "benefits.buckets.general.share_bp" in estimate["sample"]["parameters"]
    settled = signed_post(SETTLE, body_for(person, item("3000")), code="NX-T-001").json
    assert settled["sample"]["is_sample"] is True and "样例" in settled["sample"]["label"]
    own = client.get(f"/api/v1/settlements/{settled['setl_id']}", headers=headers).json
    assert own["sample"] == settled["sample"]


def test_inner_mongolia_general_figures_are_official_and_its_chronic_figures_are_samples(
        client, nm_chronic_patient, make_person, person_headers, signed_post):
    caps = client.get(CAPS, headers=person_headers(make_person(region="nm"))).json
    assert (caps["general"]["sample"], caps["deductible"]["sample"], caps["chronic"]["sample"]) == (False, False, True)
    general = signed_post(SETTLE, body_for(make_person(region="nm"), item("3000")), code="NM-T-001").json
    assert general["sample"] == {"is_sample": False, "label": None, "parameters": []}
    chronic = signed_post(SETTLE, body_for(nm_chronic_patient, item("3000"), med_type="chronic",
                                           disease_code="I10"), code="NM-T-001").json
    assert chronic["bucket"] == "chronic" and chronic["sample"]["is_sample"] is True
    assert "门诊慢特病" in chronic["sample"]["label"]


def test_a_line_the_account_may_not_pay_is_paid_in_cash_and_shows_why(make_person, signed_post):
    person = make_person(region="nm", opening_balance_fen=1_000_000)
    settled = signed_post(SETTLE, body_for(person, item("3000"),
                                           item("200", in_scope=False, code="YS01", name="养生茶", use="wellness"),
                                           use_account=True), code="NM-T-001").json
    medicine, tea = settled["items"]
    assert medicine["account_refusal"] is None and medicine["account_eligible"] is True
    assert tea["account_eligible"] is False
    assert tea["account_refusal"]["reason"] == "excluded_use" and "养生保健" in tea["account_refusal"]["message"]
    assert "第五条" in tea["account_refusal"]["article"]
    # Fund (3000 − 1000) × 60 % = 1200; personal 2000; the account pays 1800, the 200 of wellness tea is cash.
    assert (settled["hifp_pay"], settled["acct_pay"], settled["psn_cash_pay"]) == ("1200.00", "1800.00", "200.00")


def test_an_unknown_use_code_is_refused_and_nothing_is_written(make_person, signed_post):
    person = make_person(region="nm")
    before = written_rows()
    refused = signed_post(SETTLE, body_for(person, item("3000", use="Fitness Club!")), code="NM-T-001")
    assert (refused.status_code, refused.json["errors"]["reason"]) == (422, "invalid_line")
    assert refused.json["message"] and written_rows() == before
