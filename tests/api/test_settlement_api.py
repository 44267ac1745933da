"""Direct settlement and refund through the signed institution API, with the arithmetic written out from the policy.

Inner Mongolia (nm-2023-01, NM §8): deductible 1000, fund 60 % at tertiary / 80 % at secondary and below, retirees
+5 points, general caps 4000 / 5000. Ningxia (the sample version nx-2024-01): deductible 600 employed / 500
retired, general 50 / 60 / 70 % by level (+5 retired), general cap 3000 / 3500, chronic 70 % at tertiary.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import ChronicQualification, Settlement, SettlementRefund, SharingGrant, new_public_id, utcnow
from backend.services import benefits
from tests.benefits_fixtures import (  # noqa: F401  (module-scoped fixtures)
    SETTLE,
    app,
    balance,
    body_for,
    fen,
    fresh_session,
    item,
    later,
    make_person,
    signed_post,
    written_rows,
    yuan,
)


# --- the amounts, both regions -----------------------------------------------------------------------------------

CASES = [
    # (region, person type, institution, in-scope yuan, out-of-scope yuan, fund, deductible paid)
    # POLICY.md worked check (NM §8): (3000 − 1000) × 60 % = 1200.
    ("nm", "employed", "NM-T-001", 3000, 0, (3000 - 1000) * 0.60, 1000),
    ("nm", "employed", "NM-S-001", 3000, 0, (3000 - 1000) * 0.80, 1000),
    ("nm", "retired", "NM-T-001", 3000, 0, (3000 - 1000) * 0.65, 1000),
    # A community health centre is "二级及以下": 80 %.
    ("nm", "employed", "NM-C-001", 3000, 0, (3000 - 1000) * 0.80, 1000),
    # Out-of-scope fees are the person's and do not fill the deductible.
    ("nm", "employed", "NM-T-001", 3000, 500, (3000 - 1000) * 0.60, 1000),
    # Below the deductible nothing is paid; all of it fills the deductible.
    ("nm", "employed", "NM-T-001", 800, 0, 0, 800),
    ("nx", "employed", "NX-T-001", 3000, 0, (3000 - 600) * 0.50, 600),
    ("nx", "retired", "NX-S-001", 3000, 0, (3000 - 500) * 0.65, 500),
    # NX's sample version lets general pooling pay at pharmacies (primary: 70 %).
    ("nx", "employed", "NX-P-001", 1000, 0, (1000 - 600) * 0.70, 600),
    # The cap: (10000 − 600) × 50 % = 4700 is more than the 3000 general cap of an employed person.
    ("nx", "employed", "NX-T-001", 10000, 0, 3000, 600),
]


@pytest.mark.parametrize("region, person_type, code, in_scope, out_of_scope, fund, deductible", CASES)
def test_a_first_visit_of_the_year_is_paid_as_the_policy_says(signed_post, make_person, region, person_type, code,
                                                              in_scope, out_of_scope, fund, deductible):
    person = make_person(region=region, person_type=person_type)
    items = [item(str(in_scope))] + ([item(str(out_of_scope), in_scope=False, code="ZF01")] if out_of_scope else [])
    response = signed_post(SETTLE, body_for(person, *items), code=code)
    assert response.status_code == 201, response.json
    result = response.json
    total = in_scope + out_of_scope
    assert result["medfee_sumamt"] == yuan(total)
    assert result["inscp_scp_amt"] == yuan(in_scope)
    assert result["act_pay_dedc"] == yuan(deductible)
    assert result["hifp_pay"] == yuan(fund)
    assert (result["acct_pay"], result["acct_mulaid_pay"]) == ("0.00", "0.00")
    assert result["psn_cash_pay"] == yuan(total - fund)
    assert result["setl_id"].startswith("ST") and result["policy_version"].startswith(region)
    assert any("起付线" in sentence for sentence in result["explanation"])


def test_the_second_visit_finds_the_deductible_used_and_the_cap_partly_spent(signed_post, make_person):
    person = make_person(region="nm")
    first = signed_post(SETTLE, body_for(person, item("3000")), code="NM-T-001").json
    second = signed_post(SETTLE, body_for(person, item("2000")), code="NM-T-001").json
    assert first["hifp_pay"] == yuan((3000 - 1000) * 0.60)  # 1200
    assert second["act_pay_dedc"] == "0.00"
    assert second["hifp_pay"] == yuan(2000 * 0.60)  # 1200 more: 2400 of the 4000 cap used
    assert "本年普通门诊统筹已付 2400.00 元，限额 4000.00 元。" in second["explanation"]
    assert benefits.year_to_date(person.id, 2024)["general_fund"] == fen(2400)


def test_the_last_of_the_cap_is_paid_and_no_more(signed_post, make_person):
    person = make_person(region="nm")
    signed_post(SETTLE, body_for(person, item("7000")), code="NM-T-001")  # (7000 − 1000) × 60 % = 3600
    last = signed_post(SETTLE, body_for(person, item("2000")), code="NM-T-001").json
    assert last["hifp_pay"] == yuan(4000 - 3600)
    assert "general_cap_reached" in last["reasons"]


def test_a_chronic_visit_of_a_qualified_person_pays_from_the_chronic_bucket_with_the_shared_nx_deductible(
        signed_post, make_person):
    person = make_person(region="nx")
    db.session.add(ChronicQualification(person_id=person.id, disease_code="I10", disease_name="高血压",
                                        valid_from=dt.date(2024, 1, 1)))
    db.session.commit()
    general = signed_post(SETTLE, body_for(person, item("400")), code="NX-T-001").json
    chronic = signed_post(SETTLE, body_for(person, item("1000"), med_type="chronic", disease_code="I10"),
                          code="NX-T-001").json
    assert general["hifp_pay"] == "0.00"  # 400 of the 600 deductible
    assert chronic["bucket"] == "chronic"
    assert chronic["act_pay_dedc"] == yuan(600 - 400)  # one deductible for both buckets (NX §13)
    assert chronic["hifp_pay"] == yuan((1000 - 200) * 0.70)


def test_amounts_may_be_numbers_or_strings(signed_post, make_person):
    person = make_person(region="nm")
    response = signed_post(SETTLE, body_for(person, item(1000.5), item("999.50", code="B"), item(1000, code="C")),
                           code="NM-T-001")
    assert response.json["medfee_sumamt"] == "3000.00"


# --- paying the personal part from accounts -----------------------------------------------------------------------

def test_the_personal_part_is_paid_from_the_own_account_first_and_balc_is_the_balance_after(signed_post,
                                                                                            make_person):
    person = make_person(region="nm", opening_balance_fen=fen(500))
    result = signed_post(SETTLE, body_for(person, item("3000"), use_account=True), code="NM-T-001").json
    # personal part 3000 − 1200 = 1800: 500 from the account, 1300 in cash
    assert (result["acct_pay"], result["psn_cash_pay"], result["balc"]) == ("500.00", "1300.00", "0.00")
    assert balance(person) == 0


def test_without_use_account_the_account_is_left_alone_and_balc_shows_its_balance(signed_post, make_person):
    person = make_person(region="nm", opening_balance_fen=fen(500))
    result = signed_post(SETTLE, body_for(person, item("3000")), code="NM-T-001").json
    assert (result["acct_pay"], result["psn_cash_pay"], result["balc"]) == ("0.00", "1800.00", "500.00")


def _share(owner, relative):
    db.session.add(SharingGrant(id=new_public_id("G"), owner_person_id=owner.id, relative_person_id=relative.id,
                                relation="father", channel="wechat", policy_version_code="nx-2024-01",
                                promise_text_version="v1", promise_accepted_at=utcnow()))
    db.session.commit()


def test_a_sharers_account_pays_after_the_own_one_and_the_visit_counts_only_for_the_patient(signed_post,
                                                                                            make_person):
    father = make_person(region="nx", person_type="retired", opening_balance_fen=fen(100))
    son = make_person(region="nx", opening_balance_fen=fen(2000))
    _share(son, father)
    result = signed_post(SETTLE, body_for(father, item("3000"), use_account=True), code="NX-T-001").json
    personal = 3000 - (3000 - 500) * 0.55  # retired at tertiary: 55 %
    assert result["acct_pay"] == "100.00"
    assert result["acct_mulaid_pay"] == yuan(personal - 100)
    assert result["psn_cash_pay"] == "0.00"
    assert balance(son) == fen(2000 - (personal - 100))
    # The son's money paid, but the visit is the father's: the son's deductible and caps are untouched (NX §12).
    assert benefits.year_to_date(son.id, 2024) == {}
    assert benefits.year_to_date(father.id, 2024)["deductible"] == fen(500)


def test_a_visit_at_an_institution_of_another_region_needs_the_offsite_registration(signed_post, make_person):
    person = make_person(region="nx")
    response = signed_post(SETTLE, body_for(person), code="NM-T-001")
    assert response.status_code == 422
    assert response.json["errors"]["reason"] == "offsite_registration_required"


def test_a_registered_person_settles_offsite_with_the_home_policy_and_no_family_sharing(signed_post, make_person):
    person = make_person(region="nx", living_out_of_province=True, opening_balance_fen=fen(100))
    son = make_person(region="nx", opening_balance_fen=fen(2000))
    _share(son, person)
    result = signed_post(SETTLE, body_for(person, item("3000"), use_account=True), code="NM-T-001").json
    assert result["policy_version"] == "nx-2024-01"  # the insured place's policy (NX §22)
    assert result["in_region"] is False and "out_of_region" in result["reasons"]
    assert result["hifp_pay"] == yuan((3000 - 600) * 0.50)
    assert (result["acct_pay"], result["acct_mulaid_pay"]) == ("100.00", "0.00")  # sharing only in region (NX §6)
    assert balance(son) == fen(2000)


def test_offsite_direct_settlement_is_only_at_secondary_or_above(signed_post, make_person):
    person = make_person(region="nm", living_out_of_province=True)
    response = signed_post(SETTLE, body_for(person), code="NX-P-001")
    assert response.json["errors"]["reason"] == "offsite_level_not_allowed"


# --- the in-hospital rule through admissions and discharges (NM §12) --------------------------------------------

def test_general_pooling_pauses_between_admission_and_discharge(signed_post, make_person):
    person = make_person(region="nm")
    admitted = signed_post("/api/v1/institution/admissions",
                           {"id_number": person.id_number, "admission_no": "ZY-1", "admitted_on": "2024-05-01"},
                           code="NM-T-001")
    assert admitted.status_code == 201 and admitted.json["status"] == "admitted"
    during = signed_post(SETTLE, body_for(person, item("3000"), visit_date="2024-05-10"), code="NM-S-001").json
    discharged = signed_post("/api/v1/institution/admissions/ZY-1/discharge", {"discharged_on": "2024-05-12"},
                             code="NM-T-001")
    after = signed_post(SETTLE, body_for(person, item("3000"), visit_date="2024-05-12"), code="NM-S-001").json
    assert during["hifp_pay"] == "0.00" and "pooling_stopped_in_hospital" in during["reasons"]
    assert discharged.json["status"] == "discharged"
    assert after["hifp_pay"] == yuan((3000 - 1000) * 0.80)


def test_an_admission_number_is_idempotent_and_cannot_be_reused_for_other_data(signed_post, make_person):
    person = make_person(region="nm")
    body = {"id_number": person.id_number, "admission_no": "ZY-2", "admitted_on": "2024-05-01"}
    first = signed_post("/api/v1/institution/admissions", body, code="NM-T-001")
    again = signed_post("/api/v1/institution/admissions", body, code="NM-T-001", timestamp=later())
    other = signed_post("/api/v1/institution/admissions", {**body, "admitted_on": "2024-05-02"}, code="NM-T-001")
    early = signed_post("/api/v1/institution/admissions/ZY-2/discharge", {"discharged_on": "2024-04-30"},
                        code="NM-T-001")
    assert (first.status_code, again.status_code) == (201, 200) and again.json == first.json
    assert other.status_code == 409 and other.json["errors"]["reason"] == "admission_no_reused"
    assert early.json["errors"]["reason"] == "discharge_before_admission"


# --- idempotency by order number -----------------------------------------------------------------------------

def test_the_same_order_number_and_body_returns_the_same_settlement_once(signed_post, make_person):
    person = make_person(region="nm", opening_balance_fen=fen(5000))
    body = body_for(person, item("3000"), use_account=True, order_no="HIS-0001")
    first = signed_post(SETTLE, body, code="NM-T-001")
    again = signed_post(SETTLE, {**body, "items": [item(3000.00)]}, code="NM-T-001", timestamp=later())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert db.session.scalar(select(func.count()).where(Settlement.person_id == person.id)) == 1
    assert balance(person) == fen(5000 - 1800)  # paid once


def test_an_order_number_reused_for_another_visit_is_refused(signed_post, make_person):
    person = make_person(region="nm")
    signed_post(SETTLE, body_for(person, item("3000"), order_no="HIS-0002"), code="NM-T-001")
    other = signed_post(SETTLE, body_for(person, item("3001"), order_no="HIS-0002"), code="NM-T-001")
    assert other.status_code == 409
    assert other.json["errors"]["reason"] == "order_no_reused"


def test_order_numbers_are_per_institution(signed_post, make_person):
    person = make_person(region="nm")
    first = signed_post(SETTLE, body_for(person, order_no="HIS-0003"), code="NM-T-001")
    second = signed_post(SETTLE, body_for(person, order_no="HIS-0003"), code="NM-S-001")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json["setl_id"] != second.json["setl_id"]


def test_an_invoice_number_is_settled_once(signed_post, make_person):
    person = make_person(region="nm")
    first = signed_post(SETTLE, body_for(person, invoice_no="FP-1"), code="NM-T-001")
    second = signed_post(SETTLE, body_for(person, invoice_no="FP-1"), code="NM-S-001")
    assert first.status_code == 201
    assert second.status_code == 409 and second.json["errors"]["reason"] == "invoice_already_used"


# --- bad input: a reason code, and nothing written ---------------------------------------------------------------

BAD_BODIES = [
    ("negative amount", lambda p: body_for(p, item("-1")), 422, "negative_amount"),
    ("non-numeric amount", lambda p: body_for(p, item("三百")), 422, "invalid_amount"),
    ("three decimals", lambda p: body_for(p, item("1.005")), 422, "invalid_amount"),
    ("a boolean for an amount", lambda p: body_for(p, item(True)), 422, "invalid_amount"),
    ("empty lines", lambda p: {**body_for(p), "items": []}, 422, "no_lines"),
    ("no lines at all", lambda p: {k: v for k, v in body_for(p).items() if k != "items"}, 422, "no_lines"),
    ("a line without a code", lambda p: body_for(p, {"name": "药", "amount": "1", "in_scope": True}), 422,
     "invalid_line"),
    ("a date outside every policy version", lambda p: body_for(p, visit_date="2021-06-01"), 422,
     "no_policy_in_force"),
    ("a visit in the future", lambda p: body_for(p, visit_date="2999-01-01"), 422, "date_in_future"),
    ("a malformed date", lambda p: body_for(p, visit_date="10/05/2024"), 422, "invalid_date"),
    ("an unknown medical type", lambda p: body_for(p, med_type="dental"), 422, "unknown_med_type"),
    ("an invalid ID number", lambda p: {**body_for(p), "id_number": "150102198203050310"}, 422, "id_number_invalid"),
    ("an unknown person", lambda p: {**body_for(p), "id_number": "11010519491231002X"}, 404, "person_not_found"),
    ("an offsite visit without registration", lambda p: body_for(p), 422, "offsite_registration_required"),
]


@pytest.mark.parametrize("case, build, status, reason", BAD_BODIES, ids=[case[0] for case in BAD_BODIES])
def test_bad_input_is_refused_with_a_reason_and_nothing_is_written(signed_post, make_person, case, build, status,
                                                                    reason):
    person = make_person(region="nm", opening_balance_fen=fen(1000))
    code = "NX-T-001" if reason == "offsite_registration_required" else "NM-T-001"
    before = written_rows()
    response = signed_post(SETTLE, build(person) | {"use_account": True}, code=code)
    assert response.status_code == status, response.json
    assert response.json["errors"]["reason"] == reason
    assert written_rows() == before
    assert balance(person) == fen(1000)


def test_an_unknown_institution_is_refused_before_anything_happens(signed_post, make_person):
    person = make_person(region="nm")
    response = signed_post(SETTLE, body_for(person), code="NM-X-999")
    assert response.status_code == 401
    assert response.json["errors"]["reason"] == "institution_unknown"


# --- refunds ----------------------------------------------------------------------------------------------------

def _state(*people):
    return [(benefits.year_to_date(p.id, 2024), balance(p)) for p in people]


def test_a_full_refund_returns_every_channel_and_restores_the_exact_prior_state(signed_post, make_person):
    father = make_person(region="nx", person_type="retired", opening_balance_fen=fen(100))
    son = make_person(region="nx", opening_balance_fen=fen(2000))
    _share(son, father)
    signed_post(SETTLE, body_for(father, item("300")), code="NX-T-001")  # some deductible used before
    before = _state(father, son)
    settled = signed_post(SETTLE, body_for(father, item("3000"), item("200", in_scope=False, code="ZF"),
                                           use_account=True), code="NX-T-001").json
    refund = signed_post(f"{SETTLE}/{settled['setl_id']}/refund", {"refund_no": "TF-1"}, code="NX-T-001")
    assert refund.status_code == 201, refund.json
    for channel in ("medfee_sumamt", "hifp_pay", "acct_pay", "acct_mulaid_pay", "psn_cash_pay"):
        assert refund.json[channel] == settled[channel], channel
    assert refund.json["status"] == "refunded"
    assert _state(father, son) == before


def test_a_refund_is_idempotent_per_refund_number_and_cannot_exceed_the_original(signed_post, make_person):
    person = make_person(region="nm")
    setl_id = signed_post(SETTLE, body_for(person), code="NM-T-001").json["setl_id"]
    path = f"{SETTLE}/{setl_id}/refund"
    first = signed_post(path, {"refund_no": "TF-2"}, code="NM-T-001")
    again = signed_post(path, {"refund_no": "TF-2"}, code="NM-T-001", timestamp=later())
    other_body = signed_post(path, {"refund_no": "TF-2", "line_nos": [1]}, code="NM-T-001")
    more = signed_post(path, {"refund_no": "TF-3"}, code="NM-T-001")
    assert (first.status_code, again.status_code) == (201, 200) and again.json == first.json
    assert other_body.status_code == 409 and other_body.json["errors"]["reason"] == "refund_no_reused"
    assert more.status_code == 409 and more.json["errors"]["reason"] == "already_refunded"
    assert db.session.scalar(select(func.count()).where(SettlementRefund.settlement_id == setl_id)) == 1


def test_only_the_settling_institution_may_refund(signed_post, make_person):
    person = make_person(region="nm")
    setl_id = signed_post(SETTLE, body_for(person), code="NM-T-001").json["setl_id"]
    response = signed_post(f"{SETTLE}/{setl_id}/refund", {"refund_no": "TF-4"}, code="NM-S-001")
    missing = signed_post(f"{SETTLE}/ST-NOPE/refund", {"refund_no": "TF-5"}, code="NM-S-001")
    assert response.status_code == 403 and response.json["errors"]["reason"] == "not_the_settling_institution"
    assert missing.status_code == 404 and missing.json["errors"]["reason"] == "settlement_not_found"


def test_a_partial_refund_of_lines_returns_what_those_lines_cost_and_the_rest_later_restores_everything(
        signed_post, make_person):
    person = make_person(region="nm", opening_balance_fen=fen(1000))
    before = _state(person)
    settled = signed_post(SETTLE, body_for(person, item("2000", code="A"), item("1500", code="B"),
                                           item("100", in_scope=False, code="C"), use_account=True),
                          code="NM-T-001").json
    # Settled: in scope 3500 → fund (3500 − 1000) × 60 % = 1500; personal 3600 − 1500 = 2100: 1000 account, 1100 cash.
    assert (settled["hifp_pay"], settled["acct_pay"], settled["psn_cash_pay"]) == ("1500.00", "1000.00", "1100.00")
    path = f"{SETTLE}/{settled['setl_id']}/refund"
    partial = signed_post(path, {"refund_no": "TF-5", "line_nos": [2]}, code="NM-T-001").json
    # Without line B: in scope 2000 → fund (2000 − 1000) × 60 % = 600, so the fund returns 1500 − 600 = 900 and
    # the person 1500 − 900 = 600, from cash first.
    assert (partial["medfee_sumamt"], partial["hifp_pay"]) == ("1500.00", "900.00")
    assert (partial["psn_cash_pay"], partial["acct_pay"], partial["status"]) == ("600.00", "0.00",
                                                                                "partially_refunded")
    ytd = benefits.year_to_date(person.id, 2024)
    assert (ytd["deductible"], ytd["general_fund"]) == (fen(1000), fen(600))
    twice = signed_post(path, {"refund_no": "TF-6", "line_nos": [2]}, code="NM-T-001")
    assert twice.status_code == 409 and twice.json["errors"]["reason"] == "line_already_refunded"
    rest = signed_post(path, {"refund_no": "TF-7"}, code="NM-T-001").json
    assert rest["line_nos"] == [1, 3] and rest["status"] == "refunded"
    assert [rest[c] for c in ("hifp_pay", "acct_pay", "psn_cash_pay")] == ["600.00", "1000.00", "500.00"]
    assert _state(person) == before


def test_refund_bad_input_is_refused_with_a_reason(signed_post, make_person):
    person = make_person(region="nm")
    setl_id = signed_post(SETTLE, body_for(person), code="NM-T-001").json["setl_id"]
    path = f"{SETTLE}/{setl_id}/refund"
    assert signed_post(path, {}, code="NM-T-001").json["errors"]["reason"] == "invalid_refund_no"
    assert signed_post(path, {"refund_no": "X", "line_nos": [0]}, code="NM-T-001").json["errors"]["reason"] == (
        "invalid_line_nos")
    assert signed_post(path, {"refund_no": "X", "line_nos": [7]}, code="NM-T-001").json["errors"]["reason"] == (
        "unknown_line_no")


# --- eligibility for institutions -------------------------------------------------------------------------------

def test_eligibility_shows_masked_identity_open_benefits_and_accumulators(signed_post, make_person):
    person = make_person(region="nm", name="刘强")
    signed_post(SETTLE, body_for(person, item("3000"), visit_date="2024-05-10"), code="NM-T-001")
    response = signed_post("/api/v1/institution/eligibility", {"id_number": person.id_number, "date": "2024-06-01"},
                           code="NM-T-001")
    assert response.status_code == 200, response.json
    result = response.json
    assert result["person"]["name"] == "刘*"
    assert result["person"]["id_number_masked"] == person.id_number[:6] + "********" + person.id_number[-4:]
    assert person.id_number not in response.get_data(as_text=True)
    assert result["benefits"]["general"] == {"eligible": True, "reasons": [], "fund_share": "60%"}
    assert result["benefits"]["chronic"]["reasons"] == ["chronic_not_qualified"]
    assert result["accumulators"]["general"] == {"allowed": "4000.00", "used": "1200.00", "remaining": "2800.00"}
    assert result["direct_settlement"] == {"allowed": True, "reason": None}


def test_eligibility_says_why_pooling_is_stopped(signed_post, make_person):
    person = make_person(region="nm", status="arrears")
    result = signed_post("/api/v1/institution/eligibility", {"id_number": person.id_number, "date": "2024-06-01"},
                         code="NX-T-001").json
    assert result["benefits"]["general"]["eligible"] is False
    assert "pooling_stopped_arrears" in result["benefits"]["general"]["reasons"]
    assert result["direct_settlement"] == {"allowed": False, "reason": "offsite_registration_required"}
