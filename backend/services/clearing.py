"""Monthly clearing with each designated institution (NX §10, §29; NM §17).

Every direct settlement and every refund belongs to one clearing month ("YYYY-MM", Beijing time): the month it
happened in, or the next month not yet cleared. Per institution and month the agency owes the institution what
it advanced for the pooling fund and what the individual accounts paid (own and shared), less refunds; cash
stays between the institution and the person. The totals are reconciled against the individual settlements and
against the account journal before a month is frozen (a ``ClearingReport`` row); a frozen month never changes,
and a refund made after it lands in a later month.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from sqlalchemy import func, select

from backend.domain import ledger as ledger_rules
from backend.domain.money import fen_to_yuan
from backend.errors import Conflict, NotFound, Unprocessable
from backend.extensions import db
from backend.models import ClearingReport, Institution, LedgerEntry, LedgerPosting, Settlement, SettlementRefund
from backend.models.base import utcnow
from backend.services import audit
from backend.services.benefits import LOCAL_ZONE, local_today

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CHANNELS = ("hifp_pay", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")
CSV_COLUMNS = (
    "month", "institution_code", "institution_name", "status", "settlements", "medfee_sumamt", "hifp_pay",
    "acct_pay", "acct_mulaid_pay", "psn_cash_pay", "refunds", "refund_medfee_sumamt", "refund_hifp_pay",
    "refund_acct_pay", "refund_acct_mulaid_pay", "refund_psn_cash_pay", "net_hifp_pay", "net_acct_pay",
    "net_acct_mulaid_pay", "payable_to_institution", "reconciled",
)
COUNT_COLUMNS = {"settlements", "refunds"}


def month_of(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_ZONE).strftime("%Y-%m")


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def open_month(institution_id: int, moment: dt.datetime) -> str:
    """The clearing month of something happening now: its own month, or the first one after it not frozen."""
    month = month_of(moment)
    if month >= month_of(utcnow()):
        return month  # freeze() refuses a month that has not ended, so this one is open
    frozen = set(db.session.scalars(select(ClearingReport.month).where(
        ClearingReport.institution_id == institution_id, ClearingReport.month >= month)))
    while month in frozen:
        month = next_month(month)
    return month


def parse_month(text: str) -> str:
    if not isinstance(text, str) or not MONTH.match(text):
        raise Unprocessable("月份格式应为 YYYY-MM", reason="invalid_month")
    return text


# --- reports ----------------------------------------------------------------------------------------------------

def reports(month: str, institution_code: str | None = None) -> list[dict]:
    """The clearing of each institution (or the one named) for the month: frozen totals, or the live ones."""
    month = parse_month(month)
    return [_report(institution, month) for institution in _institutions(institution_code)]


def freeze(month: str, institution_code: str | None = None, *, actor_kind: str = "system",
           actor_id: object = "cli", today: dt.date | None = None) -> list[dict]:
    """Clear and freeze a month that has ended (commits, audited). Freezing again changes nothing."""
    month = parse_month(month)
    if month >= (today or local_today()).strftime("%Y-%m"):
        raise Unprocessable("只能清算已结束的月份", reason="month_not_ended", month=month)
    for institution in _institutions(institution_code):
        if _frozen(institution.id, month) is not None:
            continue
        report = _live_report(institution, month)
        if not report["reconciled"]:
            db.session.rollback()
            raise Conflict("清算数据与结算明细或账户流水不一致，未冻结", reason="clearing_not_reconciled",
                           institution=institution.code, checks=report["checks"])
        db.session.add(ClearingReport(institution_id=institution.id, month=month, totals=report["totals"],
                                      frozen_at=utcnow()))
        audit.record(actor_kind, actor_id, "clearing_frozen", "clearing_report", f"{institution.code}:{month}",
                     payable_to_institution=report["totals"]["payable_to_institution"])
    db.session.commit()
    return reports(month, institution_code)


def csv_text(rows: list[dict]) -> str:
    """One line per institution and month, amounts in yuan; opened by finance tools and spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for report in rows:
        totals = report["totals"]
        values = {"month": report["month"], "institution_code": report["institution_code"],
                  "institution_name": report["institution_name"], "status": report["status"],
                  "reconciled": "yes" if report["reconciled"] else "no"}
        for column in CSV_COLUMNS:
            if column in values:
                continue
            values[column] = totals[column] if column in COUNT_COLUMNS else fen_to_yuan(totals[column])
        writer.writerow([values[column] for column in CSV_COLUMNS])
    return out.getvalue()


def _institutions(code: str | None) -> list[Institution]:
    query = select(Institution).order_by(Institution.code)
    if code:
        institution = db.session.scalar(query.where(Institution.code == code))
        if institution is None:
            raise NotFound("未找到该定点机构", reason="institution_not_found", institution=code)
        return [institution]
    return list(db.session.scalars(query.where(Institution.active.is_(True))))


def _frozen(institution_id: int, month: str) -> ClearingReport | None:
    return db.session.scalar(select(ClearingReport).where(
        ClearingReport.institution_id == institution_id, ClearingReport.month == month))


def _report(institution: Institution, month: str) -> dict:
    live = _live_report(institution, month)
    frozen = _frozen(institution.id, month)
    if frozen is None:
        return live
    # A frozen month shows what was frozen; the check says whether anything has moved into it since.
    unchanged = {"name": "frozen_totals_unchanged", "expected": frozen.totals["settlements"],
                 "actual": live["totals"]["settlements"], "ok": frozen.totals == live["totals"]}
    return {**live, "status": "frozen", "frozen_at": frozen.frozen_at.isoformat(), "totals": dict(frozen.totals),
            "checks": [*live["checks"], unchanged], "reconciled": live["reconciled"] and unchanged["ok"]}


def _live_report(institution: Institution, month: str) -> dict:
    settlements = _settlement_rows(institution.id, month)
    refunds = _refund_rows(institution.id, month)
    totals = _totals(settlements, refunds)
    checks = _checks(institution.id, month, settlements, refunds)
    return {
        "month": month, "institution_code": institution.code, "institution_name": institution.name,
        "status": "open", "frozen_at": None, "totals": totals, "checks": checks,
        "reconciled": all(check["ok"] for check in checks),
    }


def _settlement_rows(institution_id: int, month: str) -> list:
    return db.session.execute(
        select(Settlement.id, Settlement.medfee_sumamt, *(getattr(Settlement, c) for c in CHANNELS))
        .where(Settlement.institution_id == institution_id, Settlement.clearing_month == month)
    ).all()


def _refund_rows(institution_id: int, month: str) -> list:
    return db.session.execute(
        select(SettlementRefund.settlement_id, SettlementRefund.refund_no, SettlementRefund.medfee_sumamt,
               *(getattr(SettlementRefund, c) for c in CHANNELS))
        .join(Settlement, Settlement.id == SettlementRefund.settlement_id)
        .where(Settlement.institution_id == institution_id, SettlementRefund.clearing_month == month)
    ).all()


def _totals(settlements: list, refunds: list) -> dict[str, int]:
    totals = {"settlements": len(settlements), "medfee_sumamt": sum(row.medfee_sumamt for row in settlements)}
    totals.update({c: sum(getattr(row, c) for row in settlements) for c in CHANNELS})
    totals["refunds"] = len(refunds)
    totals["refund_medfee_sumamt"] = sum(row.medfee_sumamt for row in refunds)
    totals.update({f"refund_{c}": sum(getattr(row, c) for row in refunds) for c in CHANNELS})
    for channel in ("hifp_pay", "acct_pay", "acct_mulaid_pay"):
        totals[f"net_{channel}"] = totals[channel] - totals[f"refund_{channel}"]
    # The institution advanced the fund part (NM §17) and was paid by the accounts through the agency (NX §10).
    totals["payable_to_institution"] = totals["net_hifp_pay"] + totals["net_acct_pay"] + totals["net_acct_mulaid_pay"]
    return totals


def _checks(institution_id: int, month: str, settlements: list, refunds: list) -> list[dict]:
    """The month's totals against the database's own sums, each settlement's parts, and the account journal."""
    database = _database_sums(institution_id, month)
    parts_off = [row.id for row in settlements if sum(getattr(row, c) for c in CHANNELS) != row.medfee_sumamt]
    refunds_off = [row.refund_no for row in refunds if sum(getattr(row, c) for c in CHANNELS) != row.medfee_sumamt]
    journal = _journal_sums([row.id for row in settlements], refunds)
    return [
        _check("settlement_totals_match_database", database["settlements"],
               [sum(getattr(row, c) for row in settlements) for c in ("medfee_sumamt", *CHANNELS)]),
        _check("refund_totals_match_database", database["refunds"],
               [sum(getattr(row, c) for row in refunds) for c in ("medfee_sumamt", *CHANNELS)]),
        _check("settlement_parts_add_up", [], parts_off),
        _check("refund_parts_add_up", [], refunds_off),
        _check("own_account_payments_match_journal", sum(row.acct_pay for row in settlements), journal["paid_own"]),
        _check("shared_account_payments_match_journal", sum(row.acct_mulaid_pay for row in settlements),
               journal["paid_shared"]),
        _check("own_account_refunds_match_journal", sum(row.acct_pay for row in refunds), journal["refunded_own"]),
        _check("shared_account_refunds_match_journal", sum(row.acct_mulaid_pay for row in refunds),
               journal["refunded_shared"]),
    ]


def _check(name: str, expected: object, actual: object) -> dict:
    return {"name": name, "expected": expected, "actual": actual, "ok": expected == actual}


def _database_sums(institution_id: int, month: str) -> dict[str, list[int]]:
    columns = ("medfee_sumamt", *CHANNELS)
    settled = db.session.execute(
        select(*(func.coalesce(func.sum(getattr(Settlement, c)), 0) for c in columns))
        .where(Settlement.institution_id == institution_id, Settlement.clearing_month == month)).one()
    refunded = db.session.execute(
        select(*(func.coalesce(func.sum(getattr(SettlementRefund, c)), 0) for c in columns))
        .join(Settlement, Settlement.id == SettlementRefund.settlement_id)
        .where(Settlement.institution_id == institution_id, SettlementRefund.clearing_month == month)).one()
    return {"settlements": [int(v) for v in settled], "refunds": [int(v) for v in refunded]}


def _journal_sums(settlement_ids: list[str], refunds: list) -> dict[str, int]:
    sums = {"paid_own": 0, "paid_shared": 0, "refunded_own": 0, "refunded_shared": 0}
    roles = {ledger_rules.CLEARING_MEDICAL_OWN: "own", ledger_rules.CLEARING_MEDICAL_SHARED: "shared"}
    if settlement_ids:
        for code, amount in db.session.execute(
            select(LedgerEntry.account_code, func.sum(LedgerEntry.amount_fen))
            .join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
            .where(LedgerPosting.kind == str(ledger_rules.PostingKind.ACCOUNT_PAYMENT),
                   LedgerPosting.settlement_id.in_(settlement_ids), LedgerEntry.account_code.in_(roles))
            .group_by(LedgerEntry.account_code)):
            sums[f"paid_{roles[code]}"] += int(amount)
    prefixes = tuple(f"refund:{row.settlement_id}/{row.refund_no}:" for row in refunds)
    if prefixes:
        for key, code, amount in db.session.execute(
            select(LedgerPosting.business_key, LedgerEntry.account_code, LedgerEntry.amount_fen)
            .join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
            .where(LedgerPosting.kind == str(ledger_rules.PostingKind.REFUND),
                   LedgerPosting.settlement_id.in_({row.settlement_id for row in refunds}),
                   LedgerEntry.account_code.in_(roles))):
            if key.startswith(prefixes):
                sums[f"refunded_{roles[code]}"] += amount
    return sums
