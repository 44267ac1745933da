"""The benefits engine, rule by rule, with the arithmetic written out from the policy articles."""

import datetime as dt
import json
from pathlib import Path

import pytest

from backend.domain.benefits import (
    CHRONIC_FUND,
    COMBINED_FUND,
    DEDUCTIBLE,
    GENERAL_FUND,
    InvalidBenefitInput,
    Line,
    Person,
    Visit,
    apply_deltas,
    benefit_year,
    cap_balances,
    eligible_base_accumulator,
    estimate,
    reversal_of,
    settle,
    with_payments,
)
from backend.domain.money import apply_share, yuan_to_fen
from backend.domain.policy import Policy, select_version

POLICY_DIR = Path(__file__).resolve().parents[2] / "backend" / "policies"
POLICIES = [Policy.from_document(json.loads(p.read_text("utf-8"))) for p in sorted(POLICY_DIR.glob("*.json"))]
NM_DAY = dt.date(2023, 5, 10)
NX_DAY = dt.date(2024, 5, 10)
NM = select_version(POLICIES, "nm", NM_DAY)
NX = select_version(POLICIES, "nx", NX_DAY)
HOSPITAL_DAYS = {"nm": NM_DAY, "nx": NX_DAY}
QUALIFIED = frozenset({"I10"})  # hypertension certified by a 认定医院 (NX §15)
NX_DEDUCTIBLE_MET = {DEDUCTIBLE: NX.benefits.deductible.amount_fen.employed}


def non_zero(accumulators):
    return {name: amount for name, amount in accumulators.items() if amount}  # a missing name means 0


def fen(yuan):
    return yuan_to_fen(yuan)


def person(region="nm", person_type="employed", **changes):
    return Person(region=region, person_type=person_type, **changes)


def visit(*amounts_in_scope, level="tertiary", med_type="general", kind="hospital", in_region=True, day=None,
          region="nm", out_of_scope=0, disease_code=None, lines=None):
    lines = lines or [Line(f"L{i}", "药品", fen(a), in_scope=True) for i, a in enumerate(amounts_in_scope)]
    if out_of_scope:
        lines.append(Line("X1", "自费药品", fen(out_of_scope), in_scope=False))
    return Visit(day or HOSPITAL_DAYS[region], level, kind, in_region, med_type, tuple(lines), disease_code)


def nm_general(person_type="employed", level="tertiary", amount=3000, ytd=None, **person_changes):
    return settle(NM, person(person_type=person_type, **person_changes), visit(amount, level=level), ytd or {})


# --- NM §8: deductible 1000, 60 % / 80 % (+5 points retired), caps 4000 / 5000 -------------------------------

@pytest.mark.parametrize(
    "person_type, level, ytd, amount, expected_fund",
    [
        # POLICY.md worked check.
        ("employed", "tertiary", {}, 3000, (3000 - 1000) * 60 / 100),
        ("employed", "secondary", {}, 3000, (3000 - 1000) * 80 / 100),
        ("retired", "tertiary", {}, 3000, (3000 - 1000) * 65 / 100),
        # "二级及以下": a primary institution pays the secondary share; retirees get 5 points more.
        ("employed", "primary", {}, 3000, (3000 - 1000) * 80 / 100),
        ("retired", "secondary", {}, 3000, (3000 - 1000) * 85 / 100),
        # Flexible workers are treated as employed (NM §2 includes them; no own numbers).
        ("flexible", "tertiary", {}, 3000, (3000 - 1000) * 60 / 100),
        # Deductible partly used earlier in the year: only the remaining 600 is deducted.
        ("employed", "tertiary", {DEDUCTIBLE: 400}, 3000, (3000 - 600) * 60 / 100),
        # Deductible already met: the whole amount is shared.
        ("employed", "tertiary", {DEDUCTIBLE: 1000}, 3000, 3000 * 60 / 100),
        # Below the deductible: nothing from the fund.
        ("employed", "tertiary", {}, 800, 0),
        # Cap reached mid-visit: 1800 due, 4000 − 3500 = 500 left.
        ("employed", "tertiary", {DEDUCTIBLE: 1000, GENERAL_FUND: 3500}, 3000, 4000 - 3500),
        # A retiree's cap is 5000.
        ("retired", "tertiary", {DEDUCTIBLE: 1000, GENERAL_FUND: 4500}, 3000, 5000 - 4500),
        # Cap already used up.
        ("employed", "secondary", {DEDUCTIBLE: 1000, GENERAL_FUND: 4000}, 3000, 0),
    ],
)
def test_nm_general_outpatient_fund_share(person_type, level, ytd, amount, expected_fund):
    settlement = nm_general(person_type, level, amount, {name: fen(v) for name, v in ytd.items()})
    assert settlement.hifp_pay == fen(expected_fund)
    assert settlement.personal_part == fen(amount) - fen(expected_fund)


def test_the_worked_check_reports_deductible_accumulators_and_explanation():
    settlement = nm_general()
    assert settlement.medfee_sumamt == settlement.inscp_scp_amt == fen(3000)
    assert settlement.act_pay_dedc == fen(1000)
    assert settlement.fund_share_bp == 6000
    assert settlement.reason_codes == ("deductible_applied",)
    assert settlement.accumulator_deltas == {
        DEDUCTIBLE: fen(1000),
        eligible_base_accumulator("general", 6000): fen(2000),
        GENERAL_FUND: fen(1200),
        COMBINED_FUND: fen(1200),  # NM §9: general pooling counts toward the combined maximum
    }
    text = "".join(settlement.explanation)
    for phrase in ("起付线 1000.00 元", "本次支付起付线 1000.00 元", "剩余 0.00 元", "三级医疗机构统筹基金支付 60%",
                   "本次支付 1200.00 元", "本年普通门诊统筹已付 1200.00 元，限额 4000.00 元", "个人负担 1800.00 元"):
        assert phrase in text


def test_the_explanation_takes_its_numbers_from_the_policy_data():
    doc = json.loads((POLICY_DIR / "nm-2023-01.json").read_text("utf-8"))
    doc["benefits"]["deductible"]["amount_fen"] = {"employed": fen(2000), "retired": fen(2000)}
    settlement = settle(Policy.from_document(doc), person(), visit(3000), {})
    assert settlement.hifp_pay == fen((3000 - 2000) * 60 / 100)
    assert "起付线 2000.00 元" in "".join(settlement.explanation)


def test_reaching_the_cap_mid_visit_says_so():
    settlement = nm_general(ytd={DEDUCTIBLE: fen(1000), GENERAL_FUND: fen(3500)})
    assert "general_cap_reached" in settlement.reason_codes
    assert settlement.accumulator_deltas[GENERAL_FUND] == fen(500)
    assert "已达普通门诊统筹年度支付限额" in "".join(settlement.explanation)


# --- NM §9 / NX §14: the combined annual maximum ----------------------------------------------------------------

def test_nm_general_pooling_stops_at_the_combined_annual_maximum_shared_with_inpatient_care():
    # 304 900 already paid by inpatient pooling and 大额: 305 000 − 304 900 = 100 left of the 1800 due.
    ytd = {DEDUCTIBLE: fen(1000), COMBINED_FUND: fen(304_900)}
    settlement = nm_general(ytd=ytd)
    assert settlement.hifp_pay == fen(305_000 - 304_900)
    assert "combined_cap_reached" in settlement.reason_codes
    assert "general_cap_reached" not in settlement.reason_codes
    assert settlement.accumulator_deltas[COMBINED_FUND] == fen(100)


def test_nx_general_pooling_is_not_limited_by_nor_counted_in_the_annual_maximum():
    at_maximum = {**NX_DEDUCTIBLE_MET, COMBINED_FUND: NX.benefits.combined_cap_fen.employed}
    settlement = settle(NX, person("nx"), visit(1000, region="nx"), at_maximum)
    assert settlement.hifp_pay == apply_share(fen(1000), NX.benefits.general.share_bp.tertiary.employed)
    assert COMBINED_FUND not in settlement.accumulator_deltas
    assert "combined_cap_reached" not in settlement.reason_codes


def test_nx_chronic_pooling_does_count_toward_the_annual_maximum():
    at_maximum = {**NX_DEDUCTIBLE_MET, COMBINED_FUND: NX.benefits.combined_cap_fen.employed}
    chronic = visit(1000, region="nx", med_type="chronic")
    settlement = settle(NX, person("nx", chronic_qualifications=QUALIFIED), chronic, at_maximum)
    assert settlement.hifp_pay == 0
    assert "combined_cap_reached" in settlement.reason_codes


# --- NX §13: one deductible for general and chronic, separate caps -------------------------------------------

def test_nx_general_then_chronic_share_one_deductible():
    nx_person = person("nx", chronic_qualifications=QUALIFIED)
    deductible = NX.benefits.deductible.amount_fen.employed
    general_amount = deductible - fen(200)  # leaves 200 of the deductible for the chronic visit
    first = settle(NX, nx_person, visit(region="nx", lines=[Line("G", "门诊", general_amount, True)]), {})
    assert (first.bucket, first.act_pay_dedc, first.hifp_pay) == ("general", general_amount, 0)

    after_first = apply_deltas({}, first.accumulator_deltas)
    second = settle(NX, nx_person, visit(1000, region="nx", med_type="chronic"), after_first)
    chronic_share = NX.benefits.chronic.share_bp.tertiary.employed
    assert second.bucket == "chronic"
    assert second.act_pay_dedc == fen(200)
    assert second.hifp_pay == apply_share(fen(1000) - fen(200), chronic_share)
    assert "合并累计" in "".join(second.explanation)


def test_nx_caps_accumulate_separately_so_a_used_up_general_cap_leaves_chronic_untouched():
    nx_person = person("nx", chronic_qualifications=QUALIFIED)
    ytd = {**NX_DEDUCTIBLE_MET, GENERAL_FUND: NX.benefits.general.cap_fen.employed}
    general = settle(NX, nx_person, visit(1000, region="nx"), ytd)
    chronic = settle(NX, nx_person, visit(1000, region="nx", med_type="chronic"), ytd)
    assert general.hifp_pay == 0 and "general_cap_reached" in general.reason_codes
    assert chronic.hifp_pay == apply_share(fen(1000), NX.benefits.chronic.share_bp.tertiary.employed)


def test_nx_out_of_region_fees_count_toward_the_caps_like_in_region_ones():
    ytd = NX_DEDUCTIBLE_MET
    at_home = settle(NX, person("nx"), visit(1000, region="nx"), ytd)
    away = settle(NX, person("nx"), visit(1000, region="nx", in_region=False), ytd)
    assert away.hifp_pay == at_home.hifp_pay
    assert away.accumulator_deltas == at_home.accumulator_deltas
    assert "out_of_region" in away.reason_codes


def test_an_approved_chronic_cap_adjustment_replaces_the_policy_cap():
    adjusted = person("nx", chronic_qualifications=QUALIFIED, chronic_cap_fen=fen(20_000))  # NX §17
    ytd = {**NX_DEDUCTIBLE_MET, CHRONIC_FUND: fen(19_900)}
    settlement = settle(NX, adjusted, visit(1000, region="nx", med_type="chronic"), ytd)
    assert settlement.hifp_pay == fen(20_000 - 19_900)
    assert cap_balances(NX, adjusted, ytd)["chronic"].remaining == fen(100)


# --- NM §11, NX §25: one fee, one bucket ---------------------------------------------------------------------

def test_a_chronic_visit_without_a_qualification_is_settled_as_general_outpatient():
    settlement = settle(NM, person(), visit(3000, med_type="chronic"), {})
    assert settlement.bucket == "general"
    assert "chronic_not_qualified" in settlement.reason_codes
    assert settlement.hifp_pay == fen((3000 - 1000) * 60 / 100)


def test_a_chronic_visit_for_another_disease_than_the_certified_one_is_settled_as_general():
    nx_person = person("nx", chronic_qualifications=QUALIFIED)
    settlement = settle(NX, nx_person, visit(1000, region="nx", med_type="chronic", disease_code="E11"), {})
    assert settlement.bucket == "general" and "chronic_not_qualified" in settlement.reason_codes


def test_a_qualified_chronic_visit_pays_only_from_the_chronic_bucket():
    qualified = person(chronic_qualifications=QUALIFIED)
    settlement = settle(NM, qualified, visit(3000, med_type="chronic", disease_code="I10"), {})
    chronic = NM.benefits.chronic
    assert settlement.bucket == "chronic"
    # The NM chronic numbers are a labelled sample without a deductible: the whole amount is shared.
    assert settlement.hifp_pay == apply_share(fen(3000), chronic.share_bp.tertiary.employed)
    assert GENERAL_FUND not in settlement.accumulator_deltas
    assert settlement.accumulator_deltas[CHRONIC_FUND] == settlement.hifp_pay


def test_nm_a_person_with_a_chronic_qualification_gets_no_general_pooling():
    settlement = nm_general(chronic_qualifications=QUALIFIED)  # NM §11
    assert settlement.hifp_pay == 0
    assert "general_excluded_by_chronic" in settlement.reason_codes


def test_nx_a_person_with_a_chronic_qualification_still_gets_general_pooling_for_other_fees():
    ytd = NX_DEDUCTIBLE_MET
    settlement = settle(NX, person("nx", chronic_qualifications=QUALIFIED), visit(1000, region="nx"), ytd)  # NX §26
    assert settlement.hifp_pay == apply_share(fen(1000), NX.benefits.general.share_bp.tertiary.employed)


# --- stops: arrears (NM §13), hospital (NM §12), status, institution scope (NM §19) ----------------------------

@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"status": "arrears"}, "pooling_stopped_arrears"),
        ({"in_hospital": True}, "pooling_stopped_in_hospital"),
        ({"status": "suspended"}, "pooling_stopped_suspended"),
        ({"status": "terminated"}, "pooling_stopped_terminated"),
    ],
)
def test_general_pooling_stops_and_nothing_accumulates(changes, reason):
    settlement = nm_general(**changes)
    assert settlement.hifp_pay == 0 and settlement.act_pay_dedc == 0
    assert settlement.personal_part == settlement.account_payable == fen(3000)
    assert settlement.accumulator_deltas == {}
    assert reason in settlement.reason_codes


def test_arrears_are_explained_with_the_way_back():
    assert "补缴后恢复" in "".join(nm_general(status="arrears").explanation)


def test_hospitalisation_stops_only_general_pooling_in_nm():
    hospitalised = person(chronic_qualifications=QUALIFIED, in_hospital=True)
    settlement = settle(NM, hospitalised, visit(3000, med_type="chronic"), {})
    assert settlement.hifp_pay > 0


def test_nm_general_pooling_does_not_pay_at_a_pharmacy():
    settlement = settle(NM, person(), visit(3000, kind="pharmacy"), {})
    assert settlement.hifp_pay == 0 and "institution_not_in_pooling_scope" in settlement.reason_codes


def test_nm_community_health_centres_are_in_the_general_pooling_scope():
    settlement = settle(NM, person(), visit(3000, level="primary", kind="community_health_centre"), {})
    assert settlement.hifp_pay == fen((3000 - 1000) * 80 / 100)


# --- scope and the individual account -------------------------------------------------------------------------

def test_out_of_scope_lines_are_personal_and_do_not_fill_the_deductible():
    settlement = settle(NM, person(), visit(3000, out_of_scope=500), {})
    assert settlement.medfee_sumamt == fen(3500) and settlement.inscp_scp_amt == fen(3000)
    assert settlement.act_pay_dedc == fen(1000)
    assert settlement.hifp_pay == fen((3000 - 1000) * 60 / 100)
    assert settlement.personal_part == fen(3500 - 1200)
    assert "out_of_scope_lines" in settlement.reason_codes


def test_lines_the_account_may_not_pay_are_left_to_cash():
    wellness = Line("W1", "养生保健", fen(200), in_scope=False, account_eligible=False)  # NM §5
    settlement = settle(NM, person(), visit(lines=[Line("D1", "药品", fen(3000), True), wellness]), {})
    assert settlement.personal_part == fen(3200 - 1200)
    assert settlement.account_payable == fen(3200 - 1200 - 200)
    assert "account_ineligible_lines" in settlement.reason_codes


# --- benefit year ---------------------------------------------------------------------------------------------

def test_the_benefit_year_is_the_calendar_year_of_the_service_date():
    assert benefit_year(visit(10, day=dt.date(2023, 12, 31))) == 2023
    assert benefit_year(visit(10, day=dt.date(2024, 1, 1))) == 2024


def test_a_new_year_starts_fresh_with_that_years_accumulators():
    used_up_2023 = {DEDUCTIBLE: fen(1000), GENERAL_FUND: fen(4000), COMBINED_FUND: fen(4000)}
    december = settle(NM, person(), visit(3000, day=dt.date(2023, 12, 31)), used_up_2023)
    january = settle(NM, person(), visit(3000, day=dt.date(2024, 1, 2)), {})  # NX §13: nothing carries over
    assert december.hifp_pay == 0
    assert january.hifp_pay == fen((3000 - 1000) * 60 / 100)
    assert january.benefit_year == 2024


# --- rounding -------------------------------------------------------------------------------------------------

def test_two_one_fen_visits_pay_what_one_two_fen_visit_pays():
    # At 60 %: 1 fen → 0.6 → 1; 2 fen → 1.2 → 1. Rounding each visit alone would pay 2.
    met = {DEDUCTIBLE: fen(1000)}
    one_fen = visit(lines=[Line("D", "药品", 1, True)])
    first = settle(NM, person(), one_fen, met)
    second = settle(NM, person(), one_fen, apply_deltas(met, first.accumulator_deltas))
    together = settle(NM, person(), visit(lines=[Line("D", "药品", 2, True)]), met)
    assert first.hifp_pay + second.hifp_pay == together.hifp_pay == 1


# --- estimate, payments, refunds ------------------------------------------------------------------------------

def test_an_estimate_is_the_settlement_of_that_amount_at_that_level():
    estimated = estimate(NM, person(person_type="retired"), fen(3000), "tertiary", NM_DAY, {})
    assert estimated.hifp_pay == fen((3000 - 1000) * 65 / 100)
    assert estimated.explanation == settle(NM, person(person_type="retired"), visit(3000), {}).explanation


def test_payments_fill_the_2207_fields_so_the_parts_add_up_to_the_total():
    paid = with_payments(nm_general(), acct_pay=fen(1000), acct_mulaid_pay=fen(500))
    assert paid.psn_cash_pay == fen(3000 - 1200 - 1000 - 500)
    assert paid.hifp_pay + paid.acct_pay + paid.acct_mulaid_pay + paid.psn_cash_pay == paid.medfee_sumamt
    assert "现金支付 300.00 元" in paid.explanation[-1]


@pytest.mark.parametrize(
    "acct_pay, acct_mulaid_pay, reason",
    [(fen(1800), 1, "account_payment_exceeds_payable"), (-1, 0, "negative_amount")],
)
def test_account_payments_beyond_what_the_account_may_pay_are_refused(acct_pay, acct_mulaid_pay, reason):
    with pytest.raises(InvalidBenefitInput) as refused:
        with_payments(nm_general(), acct_pay, acct_mulaid_pay)
    assert refused.value.reason == reason


def test_payments_are_recorded_once():
    paid = with_payments(nm_general(), 0, 0)
    with pytest.raises(InvalidBenefitInput, match="payments_already_recorded"):
        with_payments(paid, 0, 0)


def test_a_refund_restores_the_deductible_and_caps_it_consumed():
    before = {DEDUCTIBLE: fen(400), GENERAL_FUND: fen(100)}
    settlement = nm_general(ytd=before)
    restored = apply_deltas(apply_deltas(before, settlement.accumulator_deltas), reversal_of(settlement))
    assert non_zero(restored) == before


def test_cap_balances_show_allowed_used_and_remaining_per_bucket():
    balances = cap_balances(NM, person(person_type="retired"), {DEDUCTIBLE: fen(300), GENERAL_FUND: fen(1200)})
    assert (balances["deductible"].allowed, balances["deductible"].remaining) == (fen(1000), fen(1000 - 300))
    assert (balances["general"].allowed, balances["general"].remaining) == (fen(5000), fen(5000 - 1200))
    assert balances["combined"].allowed == fen(305_000)


# --- refused input --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "build, reason",
    [
        (lambda: Line("D", "药品", -1, True), "negative_amount"),
        (lambda: Line("D", "药品", 1.5, True), "invalid_amount"),
        (lambda: visit(lines=[]), "no_lines"),
        (lambda: visit(10, level="quaternary"), "unknown_institution_level"),
        (lambda: visit(10, kind="clinic"), "unknown_institution_kind"),
        (lambda: visit(10, med_type="dental"), "unknown_med_type"),
        (lambda: person(person_type="student"), "unknown_person_type"),
        (lambda: person(status="asleep"), "unknown_status"),
        (lambda: person(region="gd"), "unknown_region"),
        (lambda: settle(NM, person("nx"), visit(10), {}), "region_mismatch"),
        (lambda: settle(NM, person(), visit(10, day=dt.date(2022, 9, 30)), {}), "policy_not_in_force"),
        (lambda: settle(NM, person(), visit(10), {DEDUCTIBLE: -1}), "negative_accumulator"),
    ],
)
def test_invalid_input_is_refused_with_a_reason_code(build, reason):
    with pytest.raises(InvalidBenefitInput) as refused:
        build()
    assert refused.value.reason == reason

