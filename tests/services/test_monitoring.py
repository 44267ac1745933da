"""Smart monitoring (NX §33): each rule raises a flag past its threshold and not below it, a second scan raises
nothing new, and a flag's review is recorded once and audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backend.domain import monitoring as rules_domain
from backend.errors import Conflict
from backend.extensions import db
from backend.models import AuditLog, Institution, MonitoringFlag, Settlement, SettlementRefund
from backend.services import monitoring
from backend.services.credits import local_today

TODAY = local_today()


@pytest.fixture
def settle(demo_parties):
    serial = iter(range(1, 10_000))

    def add(person, institution_code="NX-T-001", *, day=TODAY, acct_pay=0, acct_mulaid_pay=0, month=None,
            settled_at=None, invoice_no=None):
        institution = db.session.scalar(select(Institution).where(Institution.code == institution_code))
        settlement = Settlement(
            id=f"ST-TEST-{next(serial)}", person_id=person.id, institution_id=institution.id, visit_date=day,
            benefit_year=day.year, med_type="general", policy_version_code="nx-2024-01",
            medfee_sumamt=10_000 + acct_pay + acct_mulaid_pay, inscp_scp_amt=10_000 + acct_pay + acct_mulaid_pay,
            act_pay_dedc=0, hifp_pay=0, acct_pay=acct_pay, acct_mulaid_pay=acct_mulaid_pay, psn_cash_pay=10_000, clearing_month=month or day.strftime("%Y-%m"),
            settled_at=settled_at or dt.datetime.now(dt.timezone.utc), institution_name=institution.name,
            invoice_no=invoice_no)
        db.session.add(settlement)
        db.session.commit()
        return settlement

    return add


def flags(rule: str) -> list[MonitoringFlag]:
    return db.session.scalars(select(MonitoringFlag).where(MonitoringFlag.rule_code == rule)).all()


def test_many_shared_account_payments_by_one_relative_in_a_day_are_flagged_at_the_threshold(make_person, settle):
    busy, calm = make_person(), make_person()
    threshold = monitoring.rule("relative_payments_per_day").threshold
    for _ in range(threshold):
        settle(busy, acct_mulaid_pay=500)
    for _ in range(threshold - 1):
        settle(calm, acct_mulaid_pay=500)
    settle(calm, acct_pay=500)  # own account: not sharing
    assert monitoring.scan() == 1
    [flag] = flags("relative_payments_per_day")
    assert (flag.person_id, flag.measured, flag.period) == (busy.id, threshold, TODAY.isoformat())
    assert monitoring.scan() == 0  # a rerun raises nothing twice


def test_a_refund_soon_after_its_settlement_is_flagged_and_a_late_one_is_not(make_person, settle):
    person = make_person()
    now = dt.datetime.now(dt.timezone.utc)
    quick = settle(person, settled_at=now - dt.timedelta(minutes=10))
    slow = settle(person, settled_at=now - dt.timedelta(days=3))
    for settlement in (quick, slow):
        db.session.add(SettlementRefund(settlement_id=settlement.id, refund_no="R1", medfee_sumamt=10_000, hifp_pay=0,
                                        acct_pay=0, acct_mulaid_pay=0, psn_cash_pay=10_000,
                                        clearing_month=settlement.clearing_month, refunded_at=now))
    db.session.commit()
    monitoring.scan()
    [flag] = flags("refund_soon_after_settlement")
    assert flag.details["setl_id"] == quick.id and flag.measured == 10


def test_an_institutions_share_of_account_spending_jumping_month_on_month_is_flagged(make_person, settle):
    person = make_person()
    first_of_month = TODAY.replace(day=1)
    last_month = (first_of_month - dt.timedelta(days=1)).strftime("%Y-%m")
    before = (first_of_month - dt.timedelta(days=1)).replace(day=1) - dt.timedelta(days=1)
    minimum = monitoring.rule("institution_account_share_jump").params["min_amount_fen"]
    for month, pharmacy in ((before.strftime("%Y-%m"), minimum // 5), (last_month, minimum)):
        settle(person, "NX-P-001", acct_pay=pharmacy, month=month)
        settle(person, "NX-T-001", acct_pay=2 * minimum - pharmacy, month=month)
    monitoring.scan()
    [flag] = flags("institution_account_share_jump")  # the hospital's share fell: only the pharmacy is flagged
    assert flag.period == last_month and flag.measured == 5_000 - 1_000
    assert flag.details["previous_share_bp"] == 1_000


def test_an_invoice_number_presented_at_a_second_institution_is_flagged(make_person, signed_post):
    person = make_person()
    visit = {"id_number": person.id_number, "visit_date": TODAY.isoformat(), "med_type": "general",
             "items": [{"code": "X1", "name": "诊查费", "amount": "50.00", "in_scope": True}],
             "use_account": False, "invoice_no": "INV-42"}
    assert signed_post("/api/v1/institution/settlements", {**visit, "order_no": "A-1"}, "NX-T-001").status_code == 201
    again = signed_post("/api/v1/institution/settlements", {**visit, "order_no": "B-1"}, "NX-S-001")
    assert again.json["errors"]["reason"] == "invoice_already_used"
    monitoring.scan()
    [flag] = flags("invoice_at_two_institutions")
    assert flag.measured == 2 and set(flag.details["institutions"]) == {"宁夏医科大学总医院", "银川市第二人民医院"}


def test_a_flag_is_reviewed_once_with_a_comment_and_the_review_is_audited(make_person, settle, staff_member):
    person = make_person()
    for _ in range(monitoring.rule("relative_payments_per_day").threshold):
        settle(person, acct_mulaid_pay=100)
    monitoring.scan()
    [flag] = flags("relative_payments_per_day")
    leader = staff_member("leader1")
    with pytest.raises(Exception) as missing:
        monitoring.review(leader.id, flag.id, "dismissed", " ")
    assert missing.value.reason == "comment_required"
    reviewed = monitoring.review(leader.id, flag.id, "dismissed", "家属慢病取药，属实")
    assert (reviewed["status"], reviewed["reviewed_by"]) == ("dismissed", "leader1")
    with pytest.raises(Conflict):
        monitoring.review(leader.id, flag.id, "confirmed", "again")
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "monitoring.flag_reviewed"))
    assert entry.details["outcome"] == "dismissed" and entry.actor_id == str(leader.id)


def test_the_rules_document_is_checked_and_thresholds_decide_findings():
    with pytest.raises(rules_domain.InvalidRules):
        rules_domain.parse_rules({"rules": [{"code": "unknown", "threshold": 1}]})
    with pytest.raises(rules_domain.InvalidRules):
        rules_domain.parse_rules({"rules": [{"code": "refund_soon_after_settlement", "threshold": -1}]})
    refund_rule = monitoring.rule("refund_soon_after_settlement")
    assert refund_rule.is_finding(refund_rule.threshold) and not refund_rule.is_finding(refund_rule.threshold + 1)
    assert rules_domain.share_bp(1, 3) == 3333 and rules_domain.share_bp(0, 0) == 0
