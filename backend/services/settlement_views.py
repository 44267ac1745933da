"""Settlements and refunds as institutions and the person see them: 2207 names in yuan."""

from __future__ import annotations

from backend.domain import benefits as engine
from backend.domain.money import fen_to_yuan, percent_label
from backend.domain.policy import Policy
from backend.extensions import db
from backend.models import Institution, Person, Settlement, SettlementLine, SettlementRefund
from backend.services import clearing, policies
from backend.services.benefits import AMOUNT_FIELDS, masked_person, settlement_sample
from backend.services.settlement_records import ordered_lines

MED_TYPE_LABELS = {"general": "普通门诊", "chronic": "门诊慢特病"}


def settlement_view(settlement: Settlement, *, institution: Institution | None = None,
                    person: Person | None = None) -> dict:
    """A settlement as institutions and the person see it: 2207 names in yuan, lines, refunds, explanation."""
    person = person or db.session.get(Person, settlement.person_id)
    if institution is None and settlement.institution_id is not None:
        institution = db.session.get(Institution, settlement.institution_id)
    policy = policies.version(settlement.policy_version_code)
    return {
        "setl_id": settlement.id,
        "source": settlement.source,
        "status": settlement.status,
        "order_no": settlement.order_no,
        "invoice_no": settlement.invoice_no,
        "person": masked_person(person),
        "institution": {
            "code": institution.code if institution else None,
            "name": settlement.institution_name,
            "level": settlement.institution_level,
        },
        "visit_date": settlement.visit_date.isoformat(),
        "med_type": settlement.med_type,
        "bucket": settlement.bucket,
        "disease_code": settlement.disease_code,
        "in_region": settlement.in_region,
        "policy_version": settlement.policy_version_code,
        "benefit_year": settlement.benefit_year,
        "fund_share": percent_label(settlement.fund_share_bp or 0),
        **{name: fen_to_yuan(getattr(settlement, name)) for name in AMOUNT_FIELDS},
        "balc": fen_to_yuan(settlement.balc) if settlement.balc is not None else None,
        "items": [_item_view(policy, number, line) for number, line in enumerate(ordered_lines(settlement), start=1)],
        "refunds": [_refund_summary(row) for row in sorted(settlement.refunds, key=lambda r: r.id)],
        "explanation": list(settlement.explanation),
        "reasons": list(settlement.reasons),
        "sample": settlement_sample(policy, settlement.bucket or settlement.med_type, settlement.reasons),
        "settled_at": settlement.settled_at.isoformat(),
        "clearing_month": settlement.clearing_month,
    }


def _item_view(policy: Policy, number: int, line: SettlementLine) -> dict:
    """A fee line; one the account may not pay says why, citing the region's article (issue #11.10)."""
    refusal = engine.account_refusal_view(policy, engine.Line(line.code, line.name, line.amount_fen, line.in_scope,
                                                              line.account_eligible, line.use_category))
    return {"line_no": number, "code": line.code, "name": line.name, "amount": fen_to_yuan(line.amount_fen),
            "in_scope": line.in_scope, "use": line.use_category, "account_eligible": refusal is None,
            "account_refusal": refusal}


def _refund_summary(row: SettlementRefund) -> dict:
    return {
        "refund_no": row.refund_no,
        "line_nos": list(row.line_nos or []),
        "medfee_sumamt": fen_to_yuan(row.medfee_sumamt),
        **{channel: fen_to_yuan(getattr(row, channel)) for channel in clearing.CHANNELS},
        "balc": fen_to_yuan(row.balc) if row.balc is not None else None,
        "clearing_month": row.clearing_month,
        "refunded_at": row.refunded_at.isoformat(),
    }


def refund_view(settlement: Settlement, row: SettlementRefund) -> dict:
    sentence = (f"退费 {fen_to_yuan(row.medfee_sumamt)} 元，按原渠道退回：统筹基金 {fen_to_yuan(row.hifp_pay)} 元，"
                f"个人账户 {fen_to_yuan(row.acct_pay)} 元，共济账户 {fen_to_yuan(row.acct_mulaid_pay)} 元，"
                f"现金 {fen_to_yuan(row.psn_cash_pay)} 元；本次结算占用的起付线和支付限额相应恢复。")
    return {"setl_id": settlement.id, "status": settlement.status, **_refund_summary(row), "explanation": [sentence]}



def summary_view(settlement: Settlement) -> dict:
    return {
        "setl_id": settlement.id, "source": settlement.source, "status": settlement.status,
        "visit_date": settlement.visit_date.isoformat(), "institution_name": settlement.institution_name,
        "med_type": settlement.med_type,
        **{name: fen_to_yuan(getattr(settlement, name)) for name in AMOUNT_FIELDS},
    }

