"""Smart monitoring (NX §33): the periodic scan that raises flags from the rules kept as data, and the staff review
of each flag (confirm or dismiss, with a comment; audited).

``scan`` is one transaction and safe to run twice: a flag is keyed by (rule, subject), so a finding already raised
is not raised again. Subjects: a person × visit day, a refund, an institution × month, an invoice number.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from backend.domain import monitoring as rules_domain
from backend.domain.identity import mask_id_number
from backend.domain.money import fen_to_yuan
from backend.errors import Conflict, NotFound, Unprocessable
from backend.extensions import db
from backend.models import (
    AuditLog, Institution, InvoiceRecord, MonitoringFlag, Person, Settlement, SettlementRefund, StaffUser, utcnow,
)
from backend.services import audit
from backend.services.application_workflow import unit_of_work
from backend.services.credits import local_today

RULES_FILE = Path(__file__).resolve().parent.parent / "policies" / "monitoring" / "rules.json"
STATUS_LABELS = {"open": "待核查", "confirmed": "已确认异常", "dismissed": "已排除"}
OUTCOMES = ("confirmed", "dismissed")
PAGE_SIZE = 50
INVOICE_REFUSED = "invoice.duplicate_refused"  # audit action written where a reused invoice number is refused


@dataclass(frozen=True)
class Observation:
    subject_key: str
    period: str
    measured: int
    person_id: int | None = None
    institution_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@cache
def rules() -> tuple[rules_domain.Rule, ...]:
    return rules_domain.parse_rules(json.loads(RULES_FILE.read_text(encoding="utf-8")))


def rule(code: str) -> rules_domain.Rule:
    found = next((r for r in rules() if r.code == code), None)
    if found is None:
        raise NotFound("未找到该监控规则", reason="rule_not_found")
    return found


# --- the scan ------------------------------------------------------------------------------------------------------
def scan(today: dt.date | None = None) -> int:
    """Run every enabled rule over the recent past; returns how many new flags were raised. One transaction."""
    today = today or local_today()
    since = today - dt.timedelta(days=current_app.config["MONITORING_LOOKBACK_DAYS"])
    with unit_of_work():
        known = set(db.session.execute(select(MonitoringFlag.rule_code, MonitoringFlag.subject_key)).all())
        raised = 0
        for each in rules():
            if not each.enabled:
                continue
            for observation in MEASURES[each.code](each, since, today):
                if each.is_finding(observation.measured) and (each.code, observation.subject_key) not in known:
                    db.session.add(_flag(each, observation))
                    known.add((each.code, observation.subject_key))
                    raised += 1
        audit.record("system", "monitoring", "monitoring.scan", "monitoring", today.isoformat(), raised=raised)
    return raised


def _flag(each: rules_domain.Rule, observation: Observation) -> MonitoringFlag:
    return MonitoringFlag(rule_code=each.code, subject_key=observation.subject_key, person_id=observation.person_id,
                          institution_id=observation.institution_id, period=observation.period,
                          measured=observation.measured, threshold=each.threshold, details=observation.details)


def _relative_payments_per_day(each, since: dt.date, today: dt.date) -> Iterator[Observation]:
    """Settlements paid partly from a sharer's account, per person and visit day."""
    rows = db.session.execute(
        select(Settlement.person_id, Settlement.visit_date, func.count(), func.sum(Settlement.acct_mulaid_pay))
        .where(Settlement.acct_mulaid_pay > 0, Settlement.visit_date >= since)
        .group_by(Settlement.person_id, Settlement.visit_date)
        .having(func.count() >= each.threshold)
    )
    for person_id, day, count, amount in rows:
        yield Observation(f"{person_id}:{day.isoformat()}", day.isoformat(), int(count), person_id=person_id,
                          details={"payments": int(count), "shared_amount": fen_to_yuan(int(amount or 0))})


def _refund_soon_after_settlement(each, since: dt.date, today: dt.date) -> Iterator[Observation]:
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.timezone.utc)
    rows = db.session.execute(
        select(SettlementRefund.id, SettlementRefund.refunded_at, SettlementRefund.medfee_sumamt, Settlement.id,
               Settlement.settled_at, Settlement.person_id, Settlement.institution_id)
        .join(Settlement, Settlement.id == SettlementRefund.settlement_id)
        .where(SettlementRefund.refunded_at >= start)
    )
    for refund_id, refunded_at, amount, setl_id, settled_at, person_id, institution_id in rows:
        minutes = max(0, int((refunded_at - settled_at).total_seconds() // 60))
        yield Observation(f"refund:{refund_id}", refunded_at.date().isoformat(), minutes, person_id=person_id,
                          institution_id=institution_id,
                          details={"setl_id": setl_id, "minutes_after_settlement": minutes,
                                   "refunded": fen_to_yuan(int(amount))})


def _institution_account_share_jump(each, since: dt.date, today: dt.date) -> Iterator[Observation]:
    """The last complete month against the one before, by clearing month."""
    this_month = _previous_month(month_of_day(today))
    last_month = _previous_month(this_month)
    this, last = _account_spending(this_month), _account_spending(last_month)
    this_total, last_total = sum(this.values()), sum(last.values())
    minimum = int(each.params.get("min_amount_fen", 0))
    for institution_id, amount in this.items():
        if amount < minimum:
            continue
        jump = rules_domain.share_jump_bp(amount, this_total, last.get(institution_id, 0), last_total)
        yield Observation(f"{institution_id}:{this_month}", this_month, jump, institution_id=institution_id, details={
            "month": this_month, "amount": fen_to_yuan(amount),
            "share_bp": rules_domain.share_bp(amount, this_total),
            "previous_share_bp": rules_domain.share_bp(last.get(institution_id, 0), last_total)})


def _invoice_at_two_institutions(each, since: dt.date, today: dt.date) -> Iterator[Observation]:
    """An invoice number used at one institution and presented again at another (the refusal is audited)."""
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.timezone.utc)
    refused = db.session.execute(select(AuditLog.object_id, AuditLog.details, AuditLog.created_at).where(
        AuditLog.action == INVOICE_REFUSED, AuditLog.created_at >= start))
    seen: dict[str, dict[str, Any]] = {}
    for number, details, at in refused:
        entry = seen.setdefault(number, {"institutions": set(), "last": at})
        entry["institutions"].add((details or {}).get("institution") or "")
        entry["last"] = max(entry["last"], at)
    for number, entry in seen.items():
        original = _original_institution(number)
        names = sorted((entry["institutions"] | {original}) - {""})
        yield Observation(f"invoice:{number}", entry["last"].date().isoformat(), len(names),
                          details={"invoice_no": number, "institutions": names})


def _original_institution(number: str) -> str:
    record = db.session.get(InvoiceRecord, number)
    if record is None or record.settlement_id is None:
        return ""
    settlement = db.session.get(Settlement, record.settlement_id)
    return (settlement.institution_name or "") if settlement else ""


def _account_spending(month: str) -> dict[int, int]:
    return {institution_id: int(amount) for institution_id, amount in db.session.execute(
        select(Settlement.institution_id, func.sum(Settlement.acct_pay + Settlement.acct_mulaid_pay))
        .where(Settlement.clearing_month == month, Settlement.institution_id.is_not(None))
        .group_by(Settlement.institution_id)) if amount}


def month_of_day(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _previous_month(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


MEASURES: dict[str, Callable[..., Iterator[Observation]]] = {
    "relative_payments_per_day": _relative_payments_per_day,
    "refund_soon_after_settlement": _refund_soon_after_settlement,
    "institution_account_share_jump": _institution_account_share_jump,
    "invoice_at_two_institutions": _invoice_at_two_institutions,
}


def note_invoice_refused(invoice_no: str, institution: Institution) -> None:
    """Record that an institution presented an invoice number already used (its settlement was refused), for the
    ``invoice_at_two_institutions`` rule. Its own transaction: the refusal itself writes nothing else."""
    with unit_of_work():
        audit.record("institution", institution.code, INVOICE_REFUSED, "invoice", invoice_no,
                     institution=institution.name)


# --- review ----------------------------------------------------------------------------------------------------------
def list_flags(*, status: str | None = "open", rule_code: str | None = None, page: int = 1,
               page_size: int = PAGE_SIZE) -> dict[str, Any]:
    page, page_size = max(1, page), max(1, min(page_size, 200))
    query = select(MonitoringFlag)
    if status:
        if status not in STATUS_LABELS:
            raise Unprocessable("未知的核查状态", reason="status_invalid", allowed=list(STATUS_LABELS))
        query = query.where(MonitoringFlag.status == status)
    if rule_code:
        query = query.where(MonitoringFlag.rule_code == rule(rule_code).code)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(MonitoringFlag.detected_at.desc(), MonitoringFlag.id.desc())
                              .offset((page - 1) * page_size).limit(page_size)).all()
    return {"items": [flag_view(row) for row in rows], "total": total, "page": page, "page_size": page_size}


def get_flag(flag_id: int) -> dict[str, Any]:
    return flag_view(_flag_row(flag_id))


def review(staff_id: int, flag_id: int, outcome: str, comment: str) -> dict[str, Any]:
    """Confirm or dismiss an open flag with a comment. 409 flag_already_reviewed. Audited; one transaction."""
    comment = (comment or "").strip()
    if outcome not in OUTCOMES:
        raise Unprocessable("结论应为确认或排除", reason="outcome_invalid", allowed=list(OUTCOMES))
    if not comment:
        raise Unprocessable("请填写审核说明", reason="comment_required")
    with unit_of_work():
        flag = _flag_row(flag_id, lock=True)
        if flag.status != "open":
            raise Conflict("该预警已处理", reason="flag_already_reviewed", status=flag.status)
        flag.status, flag.review_comment = outcome, comment[:1000]
        flag.reviewed_by_staff_id, flag.reviewed_at = staff_id, utcnow()
        audit.record("staff", staff_id, "monitoring.flag_reviewed", "monitoring_flag", flag.id,
                     rule=flag.rule_code, outcome=outcome, comment=flag.review_comment)
    return flag_view(flag)


def summary() -> dict[str, Any]:
    """Open flags per rule, for the dashboard."""
    counts = dict(db.session.execute(select(MonitoringFlag.rule_code, func.count())
                                     .where(MonitoringFlag.status == "open").group_by(MonitoringFlag.rule_code)).all())
    return {"open": sum(counts.values()),
            "by_rule": [{"code": r.code, "label": r.label, "open": counts.get(r.code, 0)} for r in rules()]}


def flag_view(flag: MonitoringFlag) -> dict[str, Any]:
    each = rule(flag.rule_code)
    person = db.session.get(Person, flag.person_id) if flag.person_id else None
    institution = db.session.get(Institution, flag.institution_id) if flag.institution_id else None
    reviewer = db.session.get(StaffUser, flag.reviewed_by_staff_id) if flag.reviewed_by_staff_id else None
    return {
        "flag_id": flag.id, "rule": each.code, "rule_label": each.label, "period": flag.period,
        "measured": flag.measured, "threshold": flag.threshold, "unit": each.unit, "details": flag.details or {},
        "person": {"person_id": person.id, "name": person.name, "id_number_masked": mask_id_number(person.id_number)}
        if person else None,
        "institution": {"code": institution.code, "name": institution.name} if institution else None,
        "status": flag.status, "status_label": STATUS_LABELS[flag.status], "detected_at": flag.detected_at,
        "reviewed_by": reviewer.username if reviewer else None, "reviewed_at": flag.reviewed_at,
        "review_comment": flag.review_comment,
    }


def _flag_row(flag_id: int, lock: bool = False) -> MonitoringFlag:
    query = select(MonitoringFlag).where(MonitoringFlag.id == flag_id)
    if lock:
        query = query.with_for_update()
    flag = db.session.scalar(query)
    if flag is None:
        raise NotFound("未找到该预警", reason="flag_not_found")
    return flag
