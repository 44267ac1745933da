"""Settlement rows and what settling, refunding and manual claims share: the engine's input and the row itself.

Helpers: no commits here, every function is part of its caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select

from backend.domain import benefits as engine
from backend.extensions import db
from backend.models import IndividualAccount, Institution, InvoiceRecord, Person, Settlement, SettlementLine, new_public_id
from backend.services.benefits import snapshot_as_dict
from backend.services.settlement_requests import FeeLine, refuse


def engine_lines(lines: tuple[FeeLine, ...]) -> tuple[engine.Line, ...]:
    return tuple(engine.Line(line.code, line.name, line.amount, line.in_scope, line.account_eligible, line.use)
                 for line in lines)


def run_engine(policy, snapshot, visit, before) -> engine.Settlement:
    try:
        return engine.settle(policy, snapshot, visit, before)
    except engine.InvalidBenefitInput as exc:
        raise refuse("结算数据不符合要求", exc.reason) from None


def engine_input(snapshot: engine.Person, before: Mapping[str, int], level: str, kind: str,
                  in_region: bool) -> dict:
    return {"person": snapshot_as_dict(snapshot), "year_to_date": dict(before), "institution_level": level,
            "institution_kind": kind, "in_region": in_region}


def new_settlement(person: Person, result: engine.Settlement, visit_date: dt.date, med_type: str,
                    in_region: bool, now: dt.datetime, *, source: str, lines: tuple[FeeLine, ...],
                    engine_input: dict, clearing_month: str, institution: Institution | None = None,
                    institution_name: str | None = None, **fields: object) -> Settlement:
    """The settlement row, paid in cash unless the result records account payments."""
    settlement = Settlement(
        id=new_public_id("ST"), source=source, status="settled", person_id=person.id,
        institution_id=institution.id if institution else None,
        institution_name=institution.name if institution else institution_name,
        institution_level=engine_input["institution_level"], visit_date=visit_date,
        benefit_year=result.benefit_year, med_type=med_type, bucket=result.bucket,
        fund_share_bp=result.fund_share_bp, in_region=in_region, policy_version_code=result.policy_version,
        medfee_sumamt=result.medfee_sumamt, inscp_scp_amt=result.inscp_scp_amt, act_pay_dedc=result.act_pay_dedc,
        hifp_pay=result.hifp_pay, acct_pay=result.acct_pay or 0, acct_mulaid_pay=result.acct_mulaid_pay or 0,
        psn_cash_pay=result.personal_part if result.psn_cash_pay is None else result.psn_cash_pay,
        reasons=list(result.reason_codes), explanation=list(result.explanation), clearing_month=clearing_month,
        settled_at=now, engine_input=engine_input, refunds=[],
        lines=[SettlementLine(code=line.code, name=line.name, amount_fen=line.amount, in_scope=line.in_scope,
                              account_eligible=line.account_eligible, use_category=line.use, bucket=result.bucket)
               for line in lines],
        **fields,
    )
    db.session.add(settlement)
    db.session.flush()  # the rows that refer to it (postings, accumulator entries, invoices) come after
    return settlement


def own_balance(person_id: int) -> int | None:
    return db.session.scalar(select(IndividualAccount.balance_fen).where(IndividualAccount.person_id == person_id))


def invoice_numbers_used(numbers: list[str]) -> list[str]:
    """The numbers already settled or reimbursed (the same fee is never paid twice, NX §25)."""
    if not numbers:
        return []
    return sorted(db.session.scalars(select(InvoiceRecord.number).where(InvoiceRecord.number.in_(numbers))))



def ordered_lines(settlement: Settlement) -> list[SettlementLine]:
    return sorted(settlement.lines, key=lambda line: line.id)



def statement_lines(settlement: Settlement) -> list[SettlementLine]:
    return ordered_lines(settlement)
