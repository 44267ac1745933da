"""Properties of the benefits engine that must hold for any visit, person and year-to-date state."""

import datetime as dt
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.domain.benefits import (
    CHRONIC_FUND,
    COMBINED_FUND,
    DEDUCTIBLE,
    GENERAL_FUND,
    Line,
    Person,
    Visit,
    apply_deltas,
    reversal_of,
    settle,
    share_half_up,
    with_payments,
)
from backend.domain.money import apply_share
from backend.domain.policy import HOSPITAL_LEVELS, INSTITUTION_KINDS, Policy, select_version

POLICY_DIR = Path(__file__).resolve().parents[2] / "backend" / "policies"
POLICIES = [Policy.from_document(json.loads(p.read_text("utf-8"))) for p in sorted(POLICY_DIR.glob("*.json"))]
DAYS = {"nm": dt.date(2023, 6, 1), "nx": dt.date(2024, 6, 1)}
FUND_OF = {"general": GENERAL_FUND, "chronic": CHRONIC_FUND}

amounts = st.integers(min_value=0, max_value=2_000_000)  # up to 20 000 yuan a line
mostly = st.sampled_from((True, True, True, False))
lines = st.builds(Line, code=st.just("L"), name=st.just("费用"), amount=amounts, in_scope=mostly,
                  account_eligible=mostly)
people = st.builds(
    Person,
    region=st.sampled_from(("nm", "nx")),
    person_type=st.sampled_from(("employed", "retired", "flexible")),
    status=st.sampled_from(("active", "active", "active", "arrears", "suspended")),
    chronic_qualifications=st.sampled_from((frozenset(), frozenset({"I10"}))),
    in_hospital=mostly.map(lambda at_home: not at_home),
)
def used_of(draw, allowed):
    """Nothing used yet, or close to (even past) the allowance, where the caps bite."""
    return draw(st.just(0) | st.integers(max(0, allowed - 500_000), allowed + 100_000))


@st.composite
def cases(draw, line_lists=st.lists(lines, min_size=1, max_size=6)):
    person = draw(people)
    policy = select_version(POLICIES, person.region, DAYS[person.region])
    visit = Visit(
        service_date=DAYS[person.region],
        institution_level=draw(st.sampled_from(HOSPITAL_LEVELS)),
        institution_kind=draw(st.sampled_from(INSTITUTION_KINDS)),
        in_region=draw(st.booleans()),
        med_type=draw(st.sampled_from(("general", "chronic"))),
        lines=tuple(draw(line_lists)),
    )
    benefits, person_type = policy.benefits, person.person_type
    ytd = {
        DEDUCTIBLE: used_of(draw, benefits.deductible.amount_fen.of(person_type)),
        GENERAL_FUND: used_of(draw, benefits.general.cap_fen.of(person_type)),
        CHRONIC_FUND: used_of(draw, benefits.chronic.cap_fen.of(person_type)),
        COMBINED_FUND: used_of(draw, benefits.combined_cap_fen.of(person_type)),
    }
    return policy, person, visit, ytd


@given(cases())
def test_the_fund_never_exceeds_what_is_left_of_any_cap(case):
    policy, person, visit, ytd = case
    settlement = settle(policy, person, visit, ytd)
    benefits, person_type = policy.benefits, person.person_type
    rule = benefits.bucket(settlement.bucket)
    assert 0 <= settlement.hifp_pay <= settlement.inscp_scp_amt
    assert settlement.hifp_pay <= max(0, rule.cap_fen.of(person_type) - ytd[FUND_OF[settlement.bucket]])
    if rule.counts_toward_combined_cap:
        assert settlement.hifp_pay <= max(0, benefits.combined_cap_fen.of(person_type) - ytd[COMBINED_FUND])
    assert settlement.act_pay_dedc <= max(0, benefits.deductible.amount_fen.of(person_type) - ytd[DEDUCTIBLE])


@given(cases(), st.integers(0, 10_000), st.integers(0, 10_000))
def test_fund_account_sharer_and_cash_add_up_to_the_total(case, own_part, sharer_part):
    settlement = settle(*case)
    # Any split of what the accounts may pay, e.g. own account first, then a sharer's.
    acct_pay = settlement.account_payable * own_part // 10_000
    acct_mulaid_pay = (settlement.account_payable - acct_pay) * sharer_part // 10_000
    paid = with_payments(settlement, acct_pay, acct_mulaid_pay)
    assert paid.psn_cash_pay >= 0
    assert paid.hifp_pay + paid.acct_pay + paid.acct_mulaid_pay + paid.psn_cash_pay == paid.medfee_sumamt
    assert paid.personal_part == paid.medfee_sumamt - paid.hifp_pay


@given(cases())
def test_a_refund_restores_the_exact_prior_accumulators(case):
    policy, person, visit, ytd = case
    settlement = settle(policy, person, visit, ytd)
    restored = apply_deltas(apply_deltas(ytd, settlement.accumulator_deltas), reversal_of(settlement))
    assert restored == {**ytd, **{name: 0 for name in settlement.accumulator_deltas if name not in ytd}}


@settings(max_examples=150)
@given(cases(line_lists=st.lists(lines, min_size=2, max_size=8)))
def test_splitting_one_levels_spending_into_several_visits_pays_the_same_as_one_visit(case):
    policy, person, visit, ytd = case
    whole = settle(policy, person, visit, ytd)
    split_ytd, split_fund = ytd, 0
    for line in visit.lines:
        part = settle(policy, person, Visit(visit.service_date, visit.institution_level, visit.institution_kind,
                                            visit.in_region, visit.med_type, (line,)), split_ytd)
        split_fund += part.hifp_pay
        split_ytd = apply_deltas(split_ytd, part.accumulator_deltas)
    assert split_fund == whole.hifp_pay
    assert split_ytd == apply_deltas(ytd, whole.accumulator_deltas)


@given(st.integers(0, 10**12), st.integers(0, 10_000))
def test_the_integer_share_rounds_exactly_like_money_apply_share(amount, share_bp):
    assert share_half_up(amount, share_bp) == apply_share(amount, share_bp)
