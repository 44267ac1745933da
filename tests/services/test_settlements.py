"""The settlement service: manual claims for the applications service, and refunds that undo exactly."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend.errors import Conflict
from backend.extensions import db
from backend.models import (
    Application,
    IndividualAccount,
    Institution,
    InvoiceRecord,
    Settlement,
    SharingGrant,
    new_public_id,
    utcnow,
)
from backend.services import benefits, manual_claims, settlement_records, settlement_refunds, settlements
from backend.services.settlement_requests import ManualVisit
from tests.benefits_fixtures import app, body_for, fen, fresh_session, item, make_person  # noqa: F401

DAY = dt.date(2024, 5, 10)


def institution(code: str) -> Institution:
    return db.session.scalar(select(Institution).where(Institution.code == code))


def balance(person) -> int:
    return db.session.scalar(select(IndividualAccount.balance_fen).where(IndividualAccount.person_id == person.id))


def application_for(person) -> str:
    application = Application(id=new_public_id("AP"), kind="reimbursement", person_id=person.id, status="approved")
    db.session.add(application)
    db.session.commit()
    return application.id


def manual_visit(*lines, cross_province=False, level="tertiary", med_type="general"):
    return ManualVisit(visit_date=DAY, hospital_level=level, institution_name="北京协和医院",
                       cross_province=cross_province, med_type=med_type, lines=tuple(lines))


# --- manual reimbursement -----------------------------------------------------------------------------------------

def test_a_cross_province_claim_is_judged_by_the_insured_places_policy_and_previewing_writes_nothing(make_person):
    person = make_person(region="nx")
    preview = manual_claims.preview_manual(person.id, manual_visit(("门诊费", fen(3000), True),
                                                                 ("自费药", fen(100), False), cross_province=True))
    # nx-2024-01 (NX §22): (3000 − 600) × 50 % = 1200; the rest and the out-of-scope 100 are the person's.
    assert (preview["hifp_pay"], preview["psn_cash_pay"], preview["in_region"]) == ("1200.00", "1900.00", False)
    assert preview["policy_version"] == "nx-2024-01"
    assert benefits.year_to_date(person.id, 2024) == {}


def test_recording_a_claim_pays_the_fund_part_only_consumes_the_accumulators_and_keeps_the_invoices(make_person):
    person = make_person(region="nm", opening_balance_fen=fen(800))
    application_id = application_for(person)
    visit = manual_visit(("门诊费", fen(3000), True), level="secondary")
    recorded = manual_claims.record_manual(person.id, application_id, visit, ["FP-100", "FP-101"])
    db.session.commit()
    # NM §8: (3000 − 1000) × 80 % = 1600 from the fund, paid out by the agency; the account is not touched.
    assert (recorded.source, recorded.hifp_pay, recorded.acct_pay, recorded.psn_cash_pay) == (
        "manual", fen(1600), 0, fen(1400))
    assert (recorded.application_id, recorded.institution_id, recorded.institution_name) == (
        application_id, None, "北京协和医院")
    assert balance(person) == fen(800)
    assert benefits.year_to_date(person.id, 2024)["general_fund"] == fen(1600)
    assert settlement_records.invoice_numbers_used(["FP-101", "FP-999", "FP-100"]) == ["FP-100", "FP-101"]
    assert settlements.detail_for_person(person.id, recorded.id)["institution"]["name"] == "北京协和医院"


def test_a_claim_with_an_invoice_already_paid_is_refused(make_person):
    person = make_person(region="nm")
    application_id = application_for(person)
    manual_claims.record_manual(person.id, application_id, manual_visit(("门诊费", fen(100), True)), ["FP-200"])
    db.session.commit()
    with pytest.raises(Conflict) as refused:
        manual_claims.record_manual(person.id, application_id, manual_visit(("门诊费", fen(100), True)),
                                  ["FP-201", "FP-200"])
    assert refused.value.reason == "invoice_already_used"
    assert refused.value.details["invoice_numbers"] == ["FP-200"]


def test_recording_does_not_commit_so_the_callers_rollback_leaves_nothing(make_person):
    person = make_person(region="nm")
    application_id = application_for(person)
    manual_claims.record_manual(person.id, application_id, manual_visit(("门诊费", fen(3000), True)), ["FP-300"])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(Settlement.person_id == person.id)) == 0
    assert db.session.get(InvoiceRecord, "FP-300") is None
    assert benefits.year_to_date(person.id, 2024) == {}


# --- refunds ----------------------------------------------------------------------------------------------------

def test_a_partial_refund_takes_back_account_money_the_remaining_lines_may_not_use(make_person):
    person = make_person(region="nx", opening_balance_fen=fen(1000))
    hospital = institution("NX-T-001")
    settled = settlements.settle_direct(hospital, body_for(
        person, item("300", code="A"), item("200", code="B", account_eligible=False), use_account=True))
    # Below the 600 deductible: no fund. The account may pay 500 − 200 (line B is not account business) = 300.
    assert (settled["acct_pay"], settled["psn_cash_pay"]) == ("300.00", "200.00")
    refund = settlement_refunds.refund(hospital, settled["setl_id"], {"refund_no": "R-A", "line_nos": [1]})
    # Left: line B alone, which the account may not pay, so all 300 of account money goes back, no cash.
    assert (refund["acct_pay"], refund["psn_cash_pay"], refund["medfee_sumamt"]) == ("300.00", "0.00", "300.00")
    assert balance(person) == fen(1000)


def test_a_sharers_account_is_refunded_before_the_own_one(make_person):
    relative = make_person(region="nx", opening_balance_fen=fen(100))
    owner = make_person(region="nx", opening_balance_fen=fen(1000))
    db.session.add(SharingGrant(id=new_public_id("G"), owner_person_id=owner.id, relative_person_id=relative.id,
                                relation="son", channel="wechat", policy_version_code="nx-2024-01",
                                promise_text_version="v1", promise_accepted_at=utcnow()))
    db.session.commit()
    hospital = institution("NX-T-001")
    settled = settlements.settle_direct(hospital, body_for(relative, item("400", code="A"), item("100", code="B"),
                                                           use_account=True))
    assert (settled["acct_pay"], settled["acct_mulaid_pay"]) == ("100.00", "400.00")
    refund = settlement_refunds.refund(hospital, settled["setl_id"], {"refund_no": "R-B", "line_nos": [2]})
    assert (refund["acct_mulaid_pay"], refund["acct_pay"]) == ("100.00", "0.00")
    assert (balance(owner), balance(relative)) == (fen(1000 - 400 + 100), 0)


_orders = itertools.count(1)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    amounts=st.lists(st.integers(min_value=0, max_value=300_000), min_size=1, max_size=4),
    in_scope=st.lists(st.booleans(), min_size=4, max_size=4),
    earlier=st.integers(min_value=0, max_value=500_000),
    opening=st.integers(min_value=0, max_value=200_000),
    data=st.data(),
)
def test_refunding_all_lines_in_any_grouping_restores_the_exact_prior_state(make_person, amounts, in_scope,
                                                                          earlier, opening, data):
    person = make_person(region="nm", opening_balance_fen=opening)
    hospital = institution("NM-S-001")
    if earlier:
        settlements.settle_direct(hospital, body_for(person, item(f"{earlier / 100:.2f}")))
    before = (benefits.year_to_date(person.id, 2024), balance(person))
    lines = [item(f"{amount / 100:.2f}", in_scope=in_scope[i], code=f"L{i}") for i, amount in enumerate(amounts)]
    settled = settlements.settle_direct(hospital, body_for(person, *lines, use_account=True))
    numbers = list(range(1, len(amounts) + 1))
    groups = data.draw(st.permutations(numbers))
    cut = data.draw(st.integers(min_value=1, max_value=len(numbers)))
    refunds = [settlement_refunds.refund(hospital, settled["setl_id"], {"refund_no": f"R{next(_orders)}",
                                                                 "line_nos": sorted(part)})
               for part in (groups[:cut], groups[cut:]) if part]
    for channel in ("medfee_sumamt", "hifp_pay", "acct_pay", "acct_mulaid_pay", "psn_cash_pay"):
        assert sum(fen(float(r[channel])) for r in refunds) == fen(float(settled[channel])), channel
    assert (benefits.year_to_date(person.id, 2024), balance(person)) == before
