"""Manual (sporadic) reimbursement, 零星报销 (NX §23): submission checks, the settlement at sign-off, the payment.

Checks at submission, in this order, each with its own reason code:

- ``materials_incomplete`` — at least one invoice, one item line of the fee list and a payee (NX §23: the
  social-security card with its finance function, or ID card + bank card);
- ``invoice_duplicate`` — an invoice number twice in the request, already reimbursed or settled directly anywhere,
  or held by another open application (NX §25: the same fee is never paid twice);
- ``amount_mismatch`` — the invoices' total differs from the item lines' total;
- ``visit_date_in_future`` / ``visit_before_coverage`` — a visit after today (Beijing date) or before any policy of
  the person's region was in force;
- ``self_paid_by_choice`` — fees the person chose to self-pay at an in-region designated institution are not
  reimbursed by hand (NX §22).

Cross-province fees that were not settled directly are judged with the **insured place's** policy and catalogues
(NX §22): the visit is computed with the person's own region's policy, flagged ``cross_province``.

Files come after creation: an application needs one invoice image per paper invoice (electronic invoices need
none) and the fee list (费用清单) before reviewers see it — see ``application_workflow.missing_materials``.

The amount is computed only at sign-off, against the accumulators of that moment, and consumes them
(``manual_claims.record_manual``); the payment to the payee then goes out through the outbox (job
``pay_reimbursement``), which marks the application ``paid``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from backend.domain.money import fen_to_yuan
from backend.domain.review import ApplicationType, ReviewStatus
from backend.errors import AppError, Conflict, Unprocessable
from backend.extensions import db
from backend.models import Application, StaffUser
from backend.models.applications import InvoiceClaim
from backend.services import (
    application_views,
    application_workflow,
    audit,
    manual_claims,
    outbox,
    people,
    policies,
    settlement_records,
    settlements,
)
from backend.services.benefits import local_today
from backend.services.settlement_requests import ManualVisit

ATTACHMENT_KINDS = frozenset({"invoice", "fee_list", "payee_card", "other"})
PAYEE_LABELS = {"social_security_card": "社会保障卡金融账户", "bank_card": "银行卡"}
REQUEST_FIELDS = ("visit_date", "institution_name", "hospital_level", "cross_province", "self_paid_by_choice",
                  "med_type", "invoices", "items", "payee")


def submit(person_id: int, request: dict[str, Any]) -> dict[str, Any]:
    """File a manual reimbursement after the checks above; returns the status view (status ``submitted``).

    ``request``: visit_date (date), institution_name, hospital_level, cross_province, self_paid_by_choice,
    med_type, invoices [{number, amount_fen, electronic}], items [{name, amount_fen, in_scope}],
    payee {kind, ...}.
    """
    with application_workflow.unit_of_work():
        person = people.get(person_id)
        payload = checked_payload(person, request, application_id=None)
        application = application_workflow.new_application(ApplicationType.REIMBURSEMENT, person, payload,
                                                   applicant_person_id=person.id)
        hold_invoices(application)
        audit.record("person", person.id, "application.submitted", "application", application.id,
                     kind=application.kind, claimed_fen=payload["claimed_fen"])
        application_workflow.notify_applicant(
            application, "submitted", "零星报销申请已提交",
            "请上传纸质发票图片和门诊费用清单，材料齐全后进入初审。" if application_workflow.missing_materials(application)
            else "材料齐全，已进入初审。")
        application_id = application.id
    return application_views.status_view(person_id, application_id)


def checked_payload(person, request: dict[str, Any], application_id: str | None) -> dict[str, Any]:
    invoices, items, payee = request.get("invoices") or [], request.get("items") or [], request.get("payee")
    _require_materials(invoices, items, payee)
    numbers = [invoice["number"] for invoice in invoices]
    _require_distinct(numbers)
    _require_totals_match(invoices, items)
    _require_covered_date(person, request["visit_date"])
    if request.get("self_paid_by_choice") and not request.get("cross_province"):
        raise Unprocessable("在区内定点医疗机构因本人原因自费结算的费用，不予手工报销", reason="self_paid_by_choice")
    _require_unused(numbers, application_id)
    return {
        "visit_date": request["visit_date"].isoformat(),
        "institution_name": request["institution_name"],
        "hospital_level": request["hospital_level"],
        "cross_province": bool(request.get("cross_province")),
        "self_paid_by_choice": bool(request.get("self_paid_by_choice")),
        "med_type": request.get("med_type") or "general",
        "invoices": [{"number": i["number"], "amount_fen": i["amount_fen"], "electronic": bool(i["electronic"])}
                     for i in invoices],
        "items": [{"name": i["name"], "amount_fen": i["amount_fen"], "in_scope": bool(i["in_scope"])}
                  for i in items],
        "payee": dict(payee),
        "claimed_fen": sum(i["amount_fen"] for i in invoices),
    }


def _require_materials(invoices: list, items: list, payee: dict | None) -> None:
    missing = []
    if not invoices:
        missing.append("invoices")
    if not items:
        missing.append("items")
    if not payee or (payee.get("kind") == "bank_card"
                     and not (payee.get("bank_name") and payee.get("account_number") and payee.get("account_name"))):
        missing.append("payee")
    if missing:
        raise Unprocessable("材料不全：需提供发票、费用明细和收款账户", reason="materials_incomplete", missing=missing)


def _require_distinct(numbers: list[str]) -> None:
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if repeated:
        raise Unprocessable("同一张发票不能重复填写", reason="invoice_duplicate", numbers=repeated)


def _require_totals_match(invoices: list, items: list) -> None:
    invoices_total = sum(i["amount_fen"] for i in invoices)
    items_total = sum(i["amount_fen"] for i in items)
    if invoices_total != items_total:
        raise Unprocessable("发票金额合计与费用明细合计不符", reason="amount_mismatch",
                            invoices_total=fen_to_yuan(invoices_total), items_total=fen_to_yuan(items_total))


def _require_covered_date(person, visit_date: dt.date) -> None:
    if visit_date > local_today():
        raise Unprocessable("就诊日期不能晚于今天", reason="visit_date_in_future")
    try:
        policies.in_force(person.region_code, visit_date)
    except AppError as exc:
        if exc.reason != "no_policy_in_force":
            raise
        raise Unprocessable("就诊日期早于参保地门诊共济保障政策的实施日期", reason="visit_before_coverage",
                            visit_date=visit_date.isoformat()) from None


def _require_unused(numbers: list[str], application_id: str | None) -> None:
    """NX §25: refused when reimbursed or settled directly anywhere, or held by another open application."""
    used = set(settlement_records.invoice_numbers_used(numbers))
    held = db.session.scalars(select(InvoiceClaim.number).where(
        InvoiceClaim.number.in_(numbers), InvoiceClaim.application_id != (application_id or ""))).all()
    duplicates = sorted(used | set(held))
    if duplicates:
        raise Conflict("发票已报销、已直接结算或正在其他申请中", reason="invoice_duplicate", numbers=duplicates)


def hold_invoices(application: Application) -> None:
    db.session.execute(delete(InvoiceClaim).where(InvoiceClaim.application_id == application.id))
    for invoice in application.payload["invoices"]:
        db.session.add(InvoiceClaim(number=invoice["number"], application_id=application.id))
    try:
        db.session.flush()
    except IntegrityError:  # another application took the number a moment ago
        raise Conflict("发票正在其他申请中", reason="invoice_duplicate") from None


# --- the hooks of the review engine -----------------------------------------------------------------------------
def required_materials(application: Application) -> dict[str, int]:
    paper = sum(1 for invoice in application.payload["invoices"] if not invoice["electronic"])
    required = {"fee_list": 1}
    if paper:
        required["invoice"] = paper
    return required


def apply_changes(application: Application, changes: dict[str, Any]) -> None:
    """Corrections sent with a supplement (e.g. amounts after ``amount_mismatch``): checked like a new request."""
    current = {**application.payload, "visit_date": dt.date.fromisoformat(application.payload["visit_date"])}
    request = {field: changes.get(field, current.get(field)) for field in REQUEST_FIELDS}
    application.payload = checked_payload(people.get(application.person_id), request, application.id)
    hold_invoices(application)


def on_signed_off(application: Application, staff: StaffUser) -> None:
    """Compute with the accumulators of this moment, record the settlement (which consumes them and records the
    invoice numbers), and send the payment through the outbox."""
    numbers = [invoice["number"] for invoice in application.payload["invoices"]]
    used = settlement_records.invoice_numbers_used(numbers)
    if used:  # settled directly since the application was filed
        raise Conflict("发票已报销或已直接结算，请以“发票重复报销”驳回", reason="invoice_duplicate", numbers=used)
    settlement = manual_claims.record_manual(application.person_id, application.id, manual_visit(application), numbers)
    application.payload = {**application.payload, "settlement_id": settlement.id, "fund_pay_fen": settlement.hifp_pay}
    audit.record("staff", staff.id, "reimbursement.settled", "application", application.id,
                 settlement_id=settlement.id, hifp_pay=settlement.hifp_pay)
    outbox.add("pay_reimbursement", application_id=application.id)


def on_closed(application: Application) -> None:
    db.session.execute(delete(InvoiceClaim).where(InvoiceClaim.application_id == application.id))


def approved_message(application: Application) -> str:
    amount = fen_to_yuan(application.payload.get("fund_pay_fen", 0))
    return f"审签通过，统筹基金支付 {amount} 元，将支付至您登记的{_payee_label(application)}。"


def paid_message(application: Application) -> tuple[str, str]:
    amount = fen_to_yuan(application.payload.get("fund_pay_fen", 0))
    return ("零星报销款已支付",
            f"{amount} 元已支付至您登记的{_payee_label(application)}。可在结算记录中查看或打印结算清单。")


def pay(application_id: str) -> bool:
    """The payment job: the transfer to the payee is handed to the agency's payment channel, then ``paid``.

    Keyed by the application: a second run finds it paid and changes nothing.
    """
    return application_workflow.mark_paid(application_id)


def manual_visit(application: Application) -> ManualVisit:
    payload = application.payload
    return ManualVisit(
        visit_date=dt.date.fromisoformat(payload["visit_date"]),
        hospital_level=payload["hospital_level"],
        institution_name=payload["institution_name"],
        cross_province=payload["cross_province"],
        med_type=payload["med_type"],
        lines=tuple((item["name"], item["amount_fen"], item["in_scope"]) for item in payload["items"]),
    )


def details(application: Application, audience: str) -> dict[str, Any]:
    payload = application.payload
    status = ReviewStatus(application.status)
    settlement_id = payload.get("settlement_id")
    view: dict[str, Any] = {
        "visit": {key: payload[key] for key in ("visit_date", "institution_name", "hospital_level",
                                                "cross_province", "med_type")},
        "invoices": [{"number": i["number"], "amount": fen_to_yuan(i["amount_fen"]), "electronic": i["electronic"]}
                     for i in payload["invoices"]],
        "items": [{"name": i["name"], "amount": fen_to_yuan(i["amount_fen"]), "in_scope": i["in_scope"]}
                  for i in payload["items"]],
        "claimed_amount": fen_to_yuan(payload["claimed_fen"]),
        "payee": _masked_payee(payload["payee"]),
        "settlement": None,
        "statement_url": None,
        "paid_at": payload.get("paid_at"),
    }
    if settlement_id:
        view["settlement"] = settlements.detail_for_person(application.person_id, settlement_id)
        view["statement_url"] = f"/api/v1/settlements/{settlement_id}/statement.pdf"
    if audience == "staff" and status in application_workflow.AWAITING_REVIEW:
        view.update(_review_aids(application))
    return view


def _review_aids(application: Application) -> dict[str, Any]:
    """Before sign-off: what the engine would pay now (nothing written) and invoices that are now used elsewhere."""
    numbers = [invoice["number"] for invoice in application.payload["invoices"]]
    try:
        preview = manual_claims.preview_manual(application.person_id, manual_visit(application))
    except AppError as exc:
        preview = {"error": {"reason": exc.reason, "message": exc.message}}
    return {"settlement_preview": preview, "invoices_already_used": settlement_records.invoice_numbers_used(numbers)}


def _masked_payee(payee: dict[str, Any]) -> dict[str, Any]:
    masked = {"kind": payee["kind"], "kind_label": PAYEE_LABELS[payee["kind"]]}
    if payee.get("bank_name"):
        masked["bank_name"] = payee["bank_name"]
    if payee.get("account_name"):
        masked["account_name"] = payee["account_name"]
    for key in ("account_number", "card_number"):
        if payee.get(key):
            masked[key] = "****" + str(payee[key])[-4:]
    return masked


def _payee_label(application: Application) -> str:
    return PAYEE_LABELS[application.payload["payee"]["kind"]]


application_workflow.register_kind(ApplicationType.REIMBURSEMENT, application_workflow.KindRules(
    attachment_kinds=ATTACHMENT_KINDS, required_materials=required_materials, details=details,
    on_signed_off=on_signed_off, on_closed=on_closed, approved_message=approved_message,
    paid_message=paid_message, apply_changes=apply_changes,
))
