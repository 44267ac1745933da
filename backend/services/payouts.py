"""One-time payout of the individual account on death or emigration (NX §9).

The applicant — the insured person on emigration, a legal heir on death — applies online with: the death or
emigration certificate, the signed 承诺书 (the form in the NX appendix, "个人账户一次性拨付"), the bank account (or
the social-security card's finance account) and a copy of it, and for an employee who died the employer's
《参加基本医疗保险缴费人员减少申报表》. Review: 经办（初审）→ 复审 → 部门领导审签. At sign-off the balance is paid to
the applicant's account and the individual account is closed, or — if the applicant chose so — the account
continues in use.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.domain.money import fen_to_yuan
from backend.domain.review import ApplicationType
from backend.errors import Conflict, NotFound, Unprocessable
from backend.extensions import db
from backend.models import Application, StaffUser
from backend.services import accounts, application_views, application_workflow, audit, outbox, people

ATTACHMENT_KINDS = frozenset({"certificate", "promise", "reduction_form", "applicant_id", "bank_card", "other"})
REASONS = {"death": "参保人死亡", "emigration": "参保人出国定居"}
DISPOSITIONS = {"payout": "一次性返还至申请人账户", "continue_in_use": "个人账户继续使用"}
RELATIONS = {"self": "本人", "spouse": "配偶", "child": "子女", "parent": "父母", "other_heir": "其他合法继承人"}


def submit(applicant_person_id: int, request: dict[str, Any]) -> dict[str, Any]:
    """File a payout application for the person named in ``request["person"]`` (default: the applicant).

    ``request``: person {name, id_number}?, reason (death|emigration), disposition (payout|continue_in_use),
    applicant_relation, bank_account {bank_name, account_number, account_name} (needed for a payout).
    """
    with application_workflow.unit_of_work():
        applicant = people.get(applicant_person_id)
        person = _person_concerned(applicant, request.get("person"))
        relation = _checked_relation(applicant, person, request)
        if request["disposition"] == "payout" and not _complete_bank_account(request.get("bank_account")):
            raise Unprocessable("一次性返还须提供申请人银行账户", reason="materials_incomplete", missing=["bank_account"])
        account = accounts.of_person(person.id)
        if account is None or account.status != "open":
            raise Conflict("该参保人的个人账户已关闭", reason="account_closed")
        _require_no_open_payout(person.id)
        payload = {
            "reason": request["reason"], "disposition": request["disposition"], "applicant_relation": relation,
            "bank_account": dict(request.get("bank_account") or {}),
            # The employer's 减少申报表 is needed for an employee who died (NX §9 item 5).
            "employer_form_required": request["reason"] == "death" and person.person_type == "employed",
        }
        application = application_workflow.new_application(ApplicationType.PAYOUT, person, payload,
                                                   applicant_person_id=applicant.id)
        audit.record("person", applicant.id, "application.submitted", "application", application.id,
                     kind=application.kind, reason=payload["reason"], disposition=payload["disposition"])
        application_workflow.notify_applicant(application, "submitted", "个人账户一次性返还申请已提交",
                                      "请上传证明材料、签字的承诺书和银行账户信息，材料齐全后进入初审。")
        application_id = application.id
    return application_views.status_view(applicant_person_id, application_id)


def _person_concerned(applicant, named: dict[str, str] | None):
    if not named or named.get("id_number") == applicant.id_number:
        return applicant
    person = people.by_id_number(named["id_number"].upper())
    if person is None or person.name != named.get("name"):  # one answer for both: no probing who is insured
        raise NotFound("未找到姓名与身份证号相符的参保人", reason="person_not_found")
    return person


def _checked_relation(applicant, person, request: dict[str, Any]) -> str:
    relation = request.get("applicant_relation") or ("self" if applicant.id == person.id else None)
    if request["reason"] == "death" and (applicant.id == person.id or relation in (None, "self")):
        raise Unprocessable("参保人死亡的，须由合法继承人申请", reason="applicant_must_be_heir")
    if request["reason"] == "emigration":
        if applicant.id != person.id:
            raise Unprocessable("出国定居的，须由参保人本人申请", reason="applicant_must_be_insured")
        return "self"
    return relation


def _complete_bank_account(bank_account: dict[str, str] | None) -> bool:
    return bool(bank_account and all(bank_account.get(k) for k in ("bank_name", "account_number", "account_name")))


def _require_no_open_payout(person_id: int) -> None:
    open_one = db.session.scalar(select(Application.id).where(
        Application.person_id == person_id, Application.kind == str(ApplicationType.PAYOUT),
        Application.status.in_([str(s) for s in application_workflow.OPEN_STATUSES])).limit(1))
    if open_one is not None:
        raise Conflict("该参保人已有办理中的一次性返还申请", reason="application_open", application_id=open_one)


# --- the hooks of the review engine -----------------------------------------------------------------------------
def required_materials(application: Application) -> dict[str, int]:
    required = {"certificate": 1, "promise": 1}
    if application.payload["disposition"] == "payout":
        required["bank_card"] = 1  # NX §9 item 4: a copy of the bank account / card
    if application.payload["employer_form_required"]:
        required["reduction_form"] = 1
    return required


def apply_changes(application: Application, changes: dict[str, Any]) -> None:
    if "bank_account" in changes:
        if application.payload["disposition"] == "payout" and not _complete_bank_account(changes["bank_account"]):
            raise Unprocessable("一次性返还须提供申请人银行账户", reason="materials_incomplete", missing=["bank_account"])
        application.payload = {**application.payload, "bank_account": dict(changes["bank_account"])}


def on_signed_off(application: Application, staff: StaffUser) -> None:
    """Pay the balance out and close the account (the payment itself goes through the outbox), or keep it."""
    continue_in_use = application.payload["disposition"] == "continue_in_use"
    amount = accounts.pay_out_balance(application.person_id, business_key=f"payout:{application.id}",
                                      continue_in_use=continue_in_use)
    application.payload = {**application.payload, "payout_amount_fen": amount}
    audit.record("staff", staff.id, "payout.signed_off", "application", application.id,
                 disposition=application.payload["disposition"], amount_fen=amount)
    if not continue_in_use:
        outbox.add("pay_payout", application_id=application.id)


def on_closed(application: Application) -> None:
    """Nothing is held while a payout is under review."""


def approved_message(application: Application) -> str:
    if application.payload["disposition"] == "continue_in_use":
        return "审签通过，个人账户继续使用。"
    amount = fen_to_yuan(application.payload.get("payout_amount_fen", 0))
    return f"审签通过，个人账户余额 {amount} 元将支付至申请人银行账户，账户同时注销。"


def paid_message(application: Application) -> tuple[str, str]:
    amount = fen_to_yuan(application.payload.get("payout_amount_fen", 0))
    return "个人账户余额已返还", f"{amount} 元已支付至申请人银行账户。"


def pay(application_id: str) -> bool:
    """The payment job: the transfer is handed to the agency's payment channel, then ``paid`` (safe to re-run)."""
    return application_workflow.mark_paid(application_id)


def details(application: Application, audience: str) -> dict[str, Any]:
    payload = application.payload
    bank = payload.get("bank_account") or {}
    view: dict[str, Any] = {
        "reason": payload["reason"], "reason_label": REASONS[payload["reason"]],
        "disposition": payload["disposition"], "disposition_label": DISPOSITIONS[payload["disposition"]],
        "applicant_relation": payload["applicant_relation"],
        "bank_account": ({"bank_name": bank.get("bank_name"), "account_name": bank.get("account_name"),
                          "account_number": "****" + str(bank.get("account_number", ""))[-4:]} if bank else None),
        "payout_amount": fen_to_yuan(payload["payout_amount_fen"]) if "payout_amount_fen" in payload else None,
        "paid_at": payload.get("paid_at"),
    }
    if audience == "staff":
        account = accounts.of_person(application.person_id)
        view["account"] = ({"status": account.status, "balance": fen_to_yuan(account.balance_fen)}
                           if account is not None else None)
    return view


application_workflow.register_kind(ApplicationType.PAYOUT, application_workflow.KindRules(
    attachment_kinds=ATTACHMENT_KINDS, required_materials=required_materials, details=details,
    on_signed_off=on_signed_off, on_closed=on_closed, approved_message=approved_message,
    paid_message=paid_message, apply_changes=apply_changes,
))
