"""The application engine every kind builds on: workflow state in the row, creation, materials, decisions.

The rules are the pure workflow of ``backend.domain.review`` (steps per kind, who may act, separation of duties);
this module keeps its state in the ``Application`` row (status, current step, when the step began) and appends one
``ReviewStepRecord`` per decision, so the time spent in each step is on record.

What differs per kind lives in the kind's own module (``reimbursements``, ``payouts``, ``chronic``), which
registers a ``KindRules`` here at import (``register_kind``): the engine never imports its kinds, the kinds import
the engine. ``attachment_kinds``; ``required_materials(application) -> {attachment kind: count}``;
``details(application, audience) -> dict`` ("person" or "staff"); ``on_signed_off(application, staff)`` — the
effect of the final approval, in the same transaction; ``on_closed(application)`` — a rejection or withdrawal;
``approved_message(application) -> str``; ``paid_message(application) -> (title, body)``;
``apply_changes(application, changes)`` — corrections sent with a supplement.

Materials rule: an application may be created before its files are uploaded. It keeps status ``submitted`` but
stays out of the reviewers' queues until ``missing_materials`` is empty, and it cannot be approved before then.

Every change is audited and notified to the applicant (deduplicated per application × transition).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from backend.domain import review
from backend.errors import AppError, Conflict, Forbidden, NotFound, Unprocessable
from backend.extensions import db
from backend.models import Application, Person, ReviewStepRecord, StaffUser, new_public_id, utcnow
from backend.services import audit, notifications

KIND_LABELS = {
    review.ApplicationType.REIMBURSEMENT: "零星报销",
    review.ApplicationType.PAYOUT: "个人账户一次性返还",
    review.ApplicationType.CHRONIC_CAP_ADJUST: "门诊慢特病最高支付限额调整",
}
ID_PREFIXES = {
    review.ApplicationType.REIMBURSEMENT: "RB",
    review.ApplicationType.PAYOUT: "PO",
    review.ApplicationType.CHRONIC_CAP_ADJUST: "CA",
}
STATUS_LABELS = {
    review.ReviewStatus.SUBMITTED: "已提交",
    review.ReviewStatus.IN_REVIEW: "审核中",
    review.ReviewStatus.APPROVED: "审核通过",
    review.ReviewStatus.PAID: "已支付",
    review.ReviewStatus.REJECTED: "未通过",
    review.ReviewStatus.RETURNED: "退回补充材料",
    review.ReviewStatus.WITHDRAWN: "已撤回",
}
OPEN_STATUSES = (review.ReviewStatus.SUBMITTED, review.ReviewStatus.IN_REVIEW, review.ReviewStatus.RETURNED)
AWAITING_REVIEW = (review.ReviewStatus.SUBMITTED, review.ReviewStatus.IN_REVIEW)
UPLOAD_STATUSES = (review.ReviewStatus.SUBMITTED, review.ReviewStatus.RETURNED)
MAX_ATTACHMENTS = 30

# The domain's errors → HTTP (see backend.domain.review).
_REVIEW_ERRORS: dict[type[review.ReviewError], type[AppError]] = {
    review.WrongRole: Forbidden,
    review.AlreadyActedOnAnotherStep: Forbidden,
    review.InvalidTransition: Conflict,
    review.ReasonRequired: Unprocessable,
}


# --- transactions and look-ups ------------------------------------------------------------------------------
@contextmanager
def unit_of_work() -> Iterator[None]:
    """One use case = one transaction: commit at the end, roll back everything on any error (nothing half-saved)."""
    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def workflow_of(application: Application) -> review.Workflow:
    return review.WORKFLOWS[review.ApplicationType(application.kind)]


def get_locked(application_id: str) -> Application:
    """The application, row-locked for the rest of the transaction (two decisions on one step cannot both pass)."""
    application = db.session.scalar(
        select(Application).where(Application.id == application_id)
        .with_for_update().execution_options(populate_existing=True)
    )
    if application is None:
        raise NotFound("未找到该申请", reason="application_not_found")
    return application


def visible_to(person_id: int, application_id: str, *, kind: str | None = None,
                lock: bool = False) -> Application:
    """A person sees the applications about them and those they filed (e.g. as an heir); others are 404."""
    query = select(Application).where(
        Application.id == application_id,
        or_(Application.person_id == person_id, Application.applicant_person_id == person_id),
    )
    if kind is not None:
        query = query.where(Application.kind == kind)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    application = db.session.scalar(query)
    if application is None:
        raise NotFound("未找到该申请", reason="application_not_found")
    return application



# --- the kinds ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KindRules:
    """What differs per kind of application; each kind's module registers its own (see the module docstring)."""

    attachment_kinds: frozenset[str]
    required_materials: Callable[[Application], dict[str, int]]
    details: Callable[[Application, str], dict[str, Any]]
    on_signed_off: Callable[[Application, StaffUser], None]
    on_closed: Callable[[Application], None]
    approved_message: Callable[[Application], str]
    paid_message: Callable[[Application], tuple[str, str]]
    apply_changes: Callable[[Application, dict[str, Any]], None]


_KINDS: dict[review.ApplicationType, KindRules] = {}


def register_kind(kind: review.ApplicationType, rules: KindRules) -> None:
    """Called once by each kind's module at import: the engine never imports its kinds (they build on it)."""
    _KINDS[kind] = rules


def kind_rules(kind: str) -> KindRules:
    try:
        return _KINDS[review.ApplicationType(kind)]
    except KeyError:
        raise LookupError(f"application kind {kind!r} is not registered: import backend.services.applications") \
            from None


# --- the workflow state in the row --------------------------------------------------------------------------
def state_of(application: Application) -> review.ReviewState:
    status = review.ReviewStatus(application.status)
    step_index = application.current_step if status in AWAITING_REVIEW else None
    history = tuple(
        review.StepRecord(r.step, r.staff_id, review.Decision(r.decision), r.reason_code, r.comment or None,
                          r.entered_at, r.decided_at)
        for r in application.steps
    )
    return review.ReviewState(status, step_index, application.step_entered_at, history)


def store_state(application: Application, state: review.ReviewState) -> None:
    application.status = str(state.status)
    application.current_step = state.step_index if state.step_index is not None else 0
    application.step_entered_at = state.since
    application.claimed_by_staff_id = None


def review_call(func, *args):
    try:
        return func(*args)
    except review.ReviewError as exc:
        error = _REVIEW_ERRORS.get(type(exc), Conflict)
        raise error(exc.message, reason=exc.reason, detail=exc.detail) from None


def now_after(state: review.ReviewState) -> dt.datetime:
    # A decision is never dated before its step began, even if clocks of two app servers disagree slightly.
    return max(utcnow(), state.since)


# --- creation (called by the kind modules) --------------------------------------------------------------------
def new_application(kind: review.ApplicationType, person: Person, payload: dict[str, Any], *,
                    applicant_person_id: int | None = None, filed_by_staff_id: int | None = None) -> Application:
    """A new application in its workflow's first step. Part of the caller's transaction."""
    now = utcnow()
    state = review.submit(now)
    application = Application(
        id=new_public_id(ID_PREFIXES[kind]), kind=str(kind), person_id=person.id,
        applicant_person_id=applicant_person_id, filed_by_staff_id=filed_by_staff_id, status=str(state.status),
        current_step=state.step_index, payload=payload, step_entered_at=now, submitted_at=now,
    )
    db.session.add(application)
    db.session.flush()
    return application


def notify_applicant(application: Application, transition: str, title: str, body: str) -> None:
    """Tell the applicant (an heir, or the person themselves) once per application × transition."""
    recipient = application.applicant_person_id or application.person_id
    notifications.notify(
        recipient, f"application_{transition.split(':')[0]}", title, body,
        dedupe_key=f"application:{application.id}:{transition}",
        data={"application_id": application.id, "kind": application.kind, "status": application.status},
    )


def kind_label(application: Application) -> str:
    return KIND_LABELS[review.ApplicationType(application.kind)]


# --- materials ------------------------------------------------------------------------------------------------
MATERIAL_LABELS = {
    "invoice": "纸质发票图片", "fee_list": "门诊费用清单", "payee_card": "社保卡或银行卡图片",
    "certificate": "死亡证明或出国定居证明", "promise": "签字的承诺书", "reduction_form": "参保单位人员减少申报表",
    "applicant_id": "申请人身份证", "bank_card": "银行卡或社保卡金融账户", "medical_record": "病历资料",
    "other": "其他材料",
}


def missing_materials(application: Application) -> list[dict[str, Any]]:
    """The attachments still needed before reviewers see the application: [{kind, label, missing}]."""
    required = kind_rules(application.kind).required_materials(application)
    uploaded: dict[str, int] = {}
    for attachment in application.attachments:
        uploaded[attachment.kind] = uploaded.get(attachment.kind, 0) + 1
    return [
        {"kind": kind, "label": MATERIAL_LABELS.get(kind, kind), "missing": count - uploaded.get(kind, 0)}
        for kind, count in required.items()
        if uploaded.get(kind, 0) < count
    ]


def actor_of(staff: StaffUser) -> review.Actor:
    return review.Actor(staff.id, frozenset(staff.roles))


def ensure_may_act(application: Application, staff: StaffUser) -> None:
    """403 unless the staff member's role decides the current step and they have not acted on another one."""
    review_call(review.ensure_may_act, workflow_of(application), state_of(application), actor_of(staff))


def _requested_materials(application: Application, decision: str, requested: list[str] | None) -> list[str]:
    """The attachment kinds a return asks for; only a return asks, and only for kinds the application takes."""
    if not requested:
        return []
    if decision != review.Decision.RETURN:
        raise Unprocessable("只有退回补充材料时才能指定所需材料", reason="requested_materials_not_allowed")
    allowed = kind_rules(application.kind).attachment_kinds
    unknown = sorted(set(requested) - set(allowed))
    if unknown:
        raise Unprocessable("所需材料类型不正确", reason="requested_material_invalid", unknown=unknown,
                            allowed=sorted(allowed))
    return sorted(set(requested))


def materials_missing_for_resubmission(application: Application, changed: bool) -> list[dict[str, Any]]:
    """What a returned application still lacks before it may go back to review: each material the reviewer asked
    for, uploaded after the return; when the return named none, something new — a file or a correction."""
    since = application.payload.get("attachments_at_return", 0)
    new_kinds = {a.kind for a in application.attachments if a.id > since}
    requested = application.payload.get("requested_materials") or []
    if requested:
        return [{"kind": kind, "label": MATERIAL_LABELS.get(kind, kind), "missing": 1}
                for kind in requested if kind not in new_kinds]
    if new_kinds or changed:
        return []
    return [{"kind": "any", "label": "退回时要求补充的材料或更正", "missing": 1}]


def record_decision(application: Application, staff: StaffUser, decision: str, comment: str | None,
                    reason_code: str | None, at: dt.datetime | None = None,
                    requested_materials: list[str] | None = None) -> tuple[review.StepRecord, int]:
    """Apply one decision to a (locked) application: the appended step record, the new state, the audit entry
    and, when it completes sign-off, the kind's effect. Part of the caller's transaction.

    Returns the step record and its number in the history (for the notification's dedupe key).
    """
    state = state_of(application)
    step = current_step_name(application)
    ensure_may_act(application, staff)  # who may act is checked before what the application's state allows
    if decision == review.Decision.APPROVE:
        missing = missing_materials(application)
        if missing:
            raise Conflict("材料不全，不能审核通过", reason="materials_missing", missing=missing)
    requested = _requested_materials(application, decision, requested_materials)
    new_state, record = review_call(review.decide, workflow_of(application), state, actor_of(staff),
                                     decision, reason_code, comment, at or now_after(state))
    if decision == review.Decision.RETURN:
        # What the applicant must upload before re-submitting, and which files were there already.
        application.payload = {**application.payload, "requested_materials": requested,
                               "attachments_at_return": max((a.id for a in application.attachments), default=0)}
    application.steps.append(ReviewStepRecord(
        step=record.step, staff_id=staff.id, decision=str(record.decision), reason_code=record.reason_code,
        comment=record.comment or "", entered_at=record.entered_at, decided_at=record.decided_at,
    ))
    store_state(application, new_state)
    audit.record("staff", staff.id, "application.decided", "application", application.id,
                 step=step, decision=str(record.decision), reason_code=record.reason_code,
                 comment=record.comment, time_in_step_seconds=int(record.time_in_step.total_seconds()))
    rules = kind_rules(application.kind)
    if new_state.status is review.ReviewStatus.APPROVED:
        rules.on_signed_off(application, staff)
    elif new_state.status is review.ReviewStatus.REJECTED:
        rules.on_closed(application)
    return record, len(new_state.history)



def mark_paid(application_id: str) -> bool:
    """The money of an approved application went out: ``paid``. Safe to run twice (returns False the second time)."""
    with unit_of_work():
        application = get_locked(application_id)
        if application.status == review.ReviewStatus.PAID:
            return False
        state = review_call(review.mark_paid, workflow_of(application), state_of(application),
                             now_after(state_of(application)))
        store_state(application, state)
        application.payload = {**application.payload, "paid_at": state.since.isoformat()}
        audit.record("system", "jobs", "application.paid", "application", application.id)
        title, body = kind_rules(application.kind).paid_message(application)
        notify_applicant(application, "paid", title, body)
    return True


def current_step(application: Application) -> review.Step | None:
    if review.ReviewStatus(application.status) not in AWAITING_REVIEW:
        return None
    return workflow_of(application).steps[application.current_step]


def current_step_name(application: Application) -> str | None:
    step = current_step(application)
    return step.name if step else None


def step_label(application: Application, name: str) -> str:
    return next((s.label for s in workflow_of(application).steps if s.name == name), name)
