"""The insured person's benefits: caps, estimates, and their own settlements (DESIGN §4.8)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import AccumulatorEntry, IndividualAccount
from backend.services.benefits import local_today
from tests.benefits_fixtures import (  # noqa: F401  (module fixtures shared by the benefits API tests)
    SETTLE,
    app,
    body_for,
    fen,
    fresh_session,
    item,
    make_person,
    signed_post,
    yuan,
)

CAPS = "/api/v1/benefits/caps"
ESTIMATE = "/api/v1/benefits/estimate"


def today() -> str:
    return local_today().isoformat()


def balance_view(allowed, used):
    return {"allowed": yuan(allowed), "used": yuan(used), "remaining": yuan(max(0, allowed - used))}


def amounts(line):
    """The amounts of a caps line (it also says whether the bucket pays now, why not, and if it is a sample)."""
    return {key: line[key] for key in ("allowed", "used", "remaining")}


# --- caps ---------------------------------------------------------------------------------------------------------

def test_caps_before_any_visit_are_the_policy_amounts_untouched(client, make_person, person_headers):
    person = make_person(region="nm", person_type="retired")
    caps = client.get(CAPS, headers=person_headers(person)).json
    # NM §8–§9: deductible 1000, general cap 5000 for retirees, combined 305000.
    assert caps["year"] == local_today().year
    assert amounts(caps["deductible"]) == balance_view(1000, 0)
    assert amounts(caps["general"]) == balance_view(5000, 0)
    assert amounts(caps["combined"]) == balance_view(305000, 0)


def test_nm_caps_after_a_visit_count_general_pooling_in_the_combined_cap(client, make_person, person_headers,
                                                                         signed_post):
    person = make_person(region="nm")
    signed_post(SETTLE, body_for(person, item("3000"), visit_date=today()), code="NM-T-001")
    caps = client.get(CAPS, headers=person_headers(person)).json
    fund = (3000 - 1000) * 0.60
    assert amounts(caps["deductible"]) == balance_view(1000, 1000)
    assert amounts(caps["general"]) == balance_view(4000, fund)
    assert caps["chronic"]["used"] == "0.00"
    assert amounts(caps["combined"]) == balance_view(305000, fund)  # NM §9


def test_nx_general_pooling_stays_outside_the_annual_maximum(client, make_person, person_headers, signed_post):
    person = make_person(region="nx")
    signed_post(SETTLE, body_for(person, item("3000"), visit_date=today()), code="NX-T-001")
    caps = client.get(CAPS, headers=person_headers(person)).json
    assert amounts(caps["general"]) == balance_view(3000, (3000 - 600) * 0.50)
    assert caps["combined"]["used"] == "0.00"  # NX §14


def test_caps_of_another_year_are_that_years_own(client, make_person, person_headers, signed_post):
    person = make_person(region="nm")
    signed_post(SETTLE, body_for(person, item("3000"), visit_date="2024-05-10"), code="NM-T-001")
    headers = person_headers(person)
    assert client.get(CAPS, query_string={"year": 2024}, headers=headers).json["general"]["used"] == "1200.00"
    assert client.get(CAPS, headers=headers).json["general"]["used"] == "0.00"  # no carry-over (NX §13)


def test_caps_need_a_signed_in_person(client):
    response = client.get(CAPS)
    assert response.status_code == 401


# --- estimates ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("region, person_type, level, expected_fund", [
    ("nm", "employed", "tertiary", (3000 - 1000) * 0.60),  # the worked check of POLICY.md: 1200
    ("nm", "employed", "secondary", (3000 - 1000) * 0.80),  # 1600
    ("nm", "retired", "tertiary", (3000 - 1000) * 0.65),  # 1300
    ("nx", "employed", "primary", (3000 - 600) * 0.70),
])
def test_an_estimate_applies_the_policy_to_the_amount_at_the_level(client, make_person, person_headers, region,
                                                                   person_type, level, expected_fund):
    person = make_person(region=region, person_type=person_type)
    response = client.post(ESTIMATE, json={"amount": 3000, "hospital_level": level}, headers=person_headers(person))
    assert response.status_code == 200, response.json
    assert response.json["hifp_pay"] == yuan(expected_fund)
    assert response.json["psn_cash_pay"] == yuan(3000 - expected_fund)


def test_an_estimate_uses_the_accumulators_and_the_balance_and_writes_nothing(client, make_person, person_headers,
                                                                              signed_post):
    person = make_person(region="nm", opening_balance_fen=fen(500))
    signed_post(SETTLE, body_for(person, item("1000"), visit_date=today()), code="NM-T-001")  # the deductible
    entries = db.session.scalar(select(func.count()).where(AccumulatorEntry.person_id == person.id))
    estimate = client.post(ESTIMATE, json={"amount": "3000.00", "hospital_level": "tertiary"},
                           headers=person_headers(person)).json
    assert estimate["act_pay_dedc"] == "0.00"
    assert estimate["hifp_pay"] == yuan(3000 * 0.60)
    assert (estimate["acct_pay"], estimate["psn_cash_pay"]) == ("500.00", yuan(3000 * 0.40 - 500))
    assert estimate["explanation"] and estimate["reasons"] == []
    assert db.session.scalar(select(func.count()).where(AccumulatorEntry.person_id == person.id)) == entries
    assert db.session.scalar(select(IndividualAccount.balance_fen)
                             .where(IndividualAccount.person_id == person.id)) == fen(500)


@pytest.mark.parametrize("body, reason", [
    ({"amount": "三千", "hospital_level": "tertiary"}, "invalid_amount"),
    ({"amount": -1, "hospital_level": "tertiary"}, "negative_amount"),
    ({"amount": 100, "hospital_level": "clinic"}, "unknown_hospital_level"),
    ({"amount": 100, "hospital_level": "tertiary", "date": "2999-01-01"}, "date_in_future"),
    ({"amount": 100, "hospital_level": "tertiary", "date": "2021-01-01"}, "no_policy_in_force"),
])
def test_a_bad_estimate_request_says_why(client, make_person, person_headers, body, reason):
    person = make_person(region="nx")
    response = client.post(ESTIMATE, json=body, headers=person_headers(person))
    assert response.status_code == 422
    assert response.json["errors"]["reason"] == reason


# --- the person's settlements -------------------------------------------------------------------------------------

def test_the_list_shows_only_my_settlements_of_the_year_newest_first_a_page_at_a_time(client, make_person,
                                                                                     person_headers, signed_post):
    me, other = make_person(region="nm"), make_person(region="nm")
    for day in ("2024-03-01", "2024-04-01", "2024-05-01"):
        signed_post(SETTLE, body_for(me, item("100"), visit_date=day), code="NM-T-001")
    signed_post(SETTLE, body_for(me, item("100"), visit_date="2023-05-01"), code="NM-T-001")
    signed_post(SETTLE, body_for(other, item("100"), visit_date="2024-05-02"), code="NM-T-001")
    headers = person_headers(me)
    first = client.get("/api/v1/settlements", query_string={"year": 2024, "page_size": 2}, headers=headers).json
    second = client.get("/api/v1/settlements", query_string={"year": 2024, "page": 2, "page_size": 2},
                        headers=headers).json
    assert first["total"] == 3
    assert [s["visit_date"] for s in first["items"] + second["items"]] == ["2024-05-01", "2024-04-01", "2024-03-01"]
    assert first["items"][0]["institution_name"] == "内蒙古自治区人民医院"
    assert client.get("/api/v1/settlements", headers=headers).json["total"] == 4


def test_the_detail_shows_lines_amounts_and_explanation_but_not_to_anyone_else(client, make_person, person_headers,
                                                                              signed_post):
    me, other = make_person(region="nm"), make_person(region="nm")
    setl_id = signed_post(SETTLE, body_for(me, item("3000")), code="NM-T-001").json["setl_id"]
    mine = client.get(f"/api/v1/settlements/{setl_id}", headers=person_headers(me))
    theirs = client.get(f"/api/v1/settlements/{setl_id}", headers=person_headers(other))
    assert mine.status_code == 200
    assert mine.json["hifp_pay"] == "1200.00" and mine.json["items"][0]["name"] == "阿莫西林胶囊"
    assert any("60%" in sentence for sentence in mine.json["explanation"])
    assert theirs.status_code == 404 and theirs.json["errors"]["reason"] == "settlement_not_found"
