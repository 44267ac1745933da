"""Applications and their multi-step staff review: one engine for every kind of application.

The rules are the pure workflow of ``backend.domain.review`` (steps per kind, who may act, separation of duties);
this module keeps its state in the ``Application`` row (status, current step, when the step began) and appends one
``ReviewStepRecord`` per decision, so the time spent in each step is on record.

What differs per kind lives in the kind's own module (``reimbursements``, ``payouts``, ``chronic``), which offers:
``ATTACHMENT_KINDS``; ``required_materials(application) -> {attachment kind: count}``;
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
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from backend.domain import review
from backend.domain.identity import mask_id_number
from backend.errors import AppError, Conflict, Forbidden, NotFound, Unprocessable
from backend.extensions import db
from backend.models import Application, Attachment, Person, ReviewStepRecord, StaffUser, new_public_id, utcnow
from backend.services import audit, files, notifications

log = logging.getLogger(__name__)

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
QUEUES = ("step", "mine")

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


def _visible_to(person_id: int, application_id: str, *, kind: str | None = None,
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


def ensure_visible(person_id: int, application_id: str, kind: str | None = None) -> None:
    """404 unless the application is the person's (and of ``kind``, when given)."""
    _visible_to(person_id, application_id, kind=kind)


def _kind_rules(kind: str) -> ModuleType:
    # Imported on first use: the kind modules build on this one (create, notify), so importing them at the top
    # would be circular.
    from backend.services import chronic, payouts, reimbursements

    return {
        review.ApplicationType.REIMBURSEMENT: reimbursements,
        review.ApplicationType.PAYOUT: payouts,
        review.ApplicationType.CHRONIC_CAP_ADJUST: chronic,
    }[review.ApplicationType(kind)]


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


def _store_state(application: Application, state: review.ReviewState) -> None:
    application.status = str(state.status)
    application.current_step = state.step_index if state.step_index is not None else 0
    application.step_entered_at = state.since
    application.claimed_by_staff_id = None


def _review_call(func, *args):
    try:
        return func(*args)
    except review.ReviewError as exc:
        error = _REVIEW_ERRORS.get(type(exc), Conflict)
        raise error(exc.message, reason=exc.reason, detail=exc.detail) from None


def _now_after(state: review.ReviewState) -> dt.datetime:
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
    required = _kind_rules(application.kind).required_materials(application)
    uploaded: dict[str, int] = {}
    for attachment in application.attachments:
        uploaded[attachment.kind] = uploaded.get(attachment.kind, 0) + 1
    return [
        {"kind": kind, "label": MATERIAL_LABELS.get(kind, kind), "missing": count - uploaded.get(kind, 0)}
        for kind, count in required.items()
        if uploaded.get(kind, 0) < count
    ]


def add_attachment(person_id: int, application_id: str, kind: str, filename: str, data: bytes) -> dict[str, Any]:
    """Store one uploaded file for the person's application: the file and its row are saved together or not at all.

    Everything that can refuse the upload is checked before the file is written; if the row still cannot be
    committed, a file no other row uses is removed again. The same bytes uploaded again as the same kind (a retry:
    multipart bodies differ on every attempt, so an Idempotency-Key cannot match them) return the first attachment.
    """
    application = _visible_to(person_id, application_id, lock=True)
    digest = hashlib.sha256(data).hexdigest()
    earlier = next((a for a in application.attachments if a.sha256 == digest and a.kind == kind), None)
    if earlier is not None:
        db.session.rollback()
        return attachment_view(earlier)
    try:
        _check_upload(application, kind)
        stored = files.store_upload(filename, data)
    except Exception:
        db.session.rollback()
        raise
    try:
        attachment = Attachment(application_id=application.id, kind=kind, filename=stored.filename,
                                content_type=stored.content_type, size_bytes=stored.size_bytes,
                                sha256=stored.sha256, storage_path=stored.storage_path)
        db.session.add(attachment)
        audit.record("person", person_id, "application.attachment_added", "application", application.id,
                     kind=kind, sha256=stored.sha256, size_bytes=stored.size_bytes)
        db.session.commit()
    except Exception:
        db.session.rollback()
        _remove_unreferenced(stored.storage_path)
        raise
    return attachment_view(attachment)


def _check_upload(application: Application, kind: str) -> None:
    rules = _kind_rules(application.kind)
    if kind not in rules.ATTACHMENT_KINDS:
        raise Unprocessable("不支持的材料类型", reason="attachment_kind_invalid", allowed=sorted(rules.ATTACHMENT_KINDS))
    if review.ReviewStatus(application.status) not in UPLOAD_STATUSES:
        raise Conflict("该申请当前状态不能上传材料", reason="invalid_transition", status=application.status)
    if len(application.attachments) >= MAX_ATTACHMENTS:
        raise Unprocessable(f"每件申请最多上传 {MAX_ATTACHMENTS} 个文件", reason="too_many_attachments")


def _remove_unreferenced(storage_path: str) -> None:
    still_used = db.session.scalar(select(Attachment.id).where(Attachment.storage_path == storage_path).limit(1))
    if still_used is None:
        try:
            files.open_stored(storage_path).unlink(missing_ok=True)
        except OSError:  # the row was never saved, so a leftover file is only wasted space
            log.warning("could not remove unreferenced upload %s", storage_path)


def attachment_file(application_id: str, attachment_id: int) -> tuple[Attachment, Any]:
    """An attachment and the path of its bytes, for staff to look at."""
    attachment = db.session.scalar(select(Attachment).where(
        Attachment.id == attachment_id, Attachment.application_id == application_id))
    if attachment is None:
        raise NotFound("未找到该材料", reason="attachment_not_found")
    return attachment, files.open_stored(attachment.storage_path)


def attachment_view(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id, "kind": attachment.kind, "filename": attachment.filename,
        "content_type": attachment.content_type, "size_bytes": attachment.size_bytes,
        "uploaded_at": attachment.uploaded_at,
    }


# --- the insured: list, status, supplement, withdraw ------------------------------------------------------------
def list_for_person(person_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    """The person's applications (about them or filed by them), newest first."""
    query = (select(Application)
             .where(or_(Application.person_id == person_id, Application.applicant_person_id == person_id))
             .options(selectinload(Application.attachments))
             .order_by(Application.submitted_at.desc(), Application.id.desc()))
    if kind is not None:
        query = query.where(Application.kind == kind)
    return [_summary(application) for application in db.session.scalars(query)]


def status_view(person_id: int, application_id: str, kind: str | None = None) -> dict[str, Any]:
    """Status, the review steps so far, what is still missing and, once approved, the outcome (404 if not theirs)."""
    application = _visible_to(person_id, application_id, kind=kind)
    return {
        **_summary(application),
        "steps": [_step_view(record, audience="person") for record in application.steps],
        "attachments": [attachment_view(a) for a in application.attachments],
        **_kind_rules(application.kind).details(application, "person"),
    }


def supplement(person_id: int, application_id: str, comment: str | None = None,
               changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A returned application, completed by the applicant, starts its review again at the first step."""
    with unit_of_work():
        application = _visible_to(person_id, application_id, lock=True)
        state = _review_call(review.supplement, state_of(application), utcnow())
        if changes:
            _kind_rules(application.kind).apply_changes(application, changes)
        missing = missing_materials(application)
        if missing:
            raise Unprocessable("材料不全，请上传后再提交", reason="materials_incomplete", missing=missing)
        _store_state(application, state)
        supplements = sum(1 for r in application.steps if r.decision == review.Decision.RETURN)
        audit.record("person", person_id, "application.supplemented", "application", application.id,
                     comment=(comment or "")[:500], changed=sorted(changes or {}))
        notify_applicant(application, f"supplemented:{supplements}", f"{kind_label(application)}申请已重新提交",
                         "您补充的材料已提交，申请将重新进入初审。")
    return status_view(person_id, application_id)


def withdraw(person_id: int, application_id: str) -> dict[str, Any]:
    """The applicant takes the application back; only before any decision was made on it."""
    with unit_of_work():
        application = _visible_to(person_id, application_id, lock=True)
        state = _review_call(review.withdraw, state_of(application), utcnow())
        _store_state(application, state)
        _kind_rules(application.kind).on_closed(application)
        audit.record("person", person_id, "application.withdrawn", "application", application.id)
        notify_applicant(application, "withdrawn", f"{kind_label(application)}申请已撤回", "您已撤回该申请。")
    return status_view(person_id, application_id)


# --- staff: queues, claim, decide, history ----------------------------------------------------------------------
def _actor(staff: StaffUser) -> review.Actor:
    return review.Actor(staff.id, frozenset(staff.roles))


def queue(staff: StaffUser, which: str = "step", kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Work for this staff member, oldest step first.

    ``step``: applications waiting at a step one of the staff's roles decides, that they have not acted on at
    another step (separation of duties), not claimed by someone else, with all materials uploaded.
    ``mine``: the applications they have claimed and not decided yet.
    """
    if which not in QUEUES:
        raise Unprocessable("未知的工作队列", reason="queue_invalid", allowed=list(QUEUES))
    query = (select(Application)
             .where(Application.status.in_([str(s) for s in AWAITING_REVIEW]))
             .options(selectinload(Application.steps), selectinload(Application.attachments))
             .order_by(Application.step_entered_at, Application.id))
    if kind is not None:
        query = query.where(Application.kind == kind)
    if which == "mine":
        query = query.where(Application.claimed_by_staff_id == staff.id)
    else:
        steps = _steps_for_roles(set(staff.roles))
        if steps is None:
            return []
        query = query.where(steps, or_(Application.claimed_by_staff_id.is_(None),
                                       Application.claimed_by_staff_id == staff.id))
    actor = _actor(staff)
    found = []
    for application in db.session.scalars(query):
        if which == "step" and not _may_act(application, actor):
            continue
        if which == "step" and missing_materials(application):
            continue
        found.append(_queue_item(application))
        if len(found) >= limit:
            break
    return found


def _steps_for_roles(roles: set[str]):
    """SQL condition: (kind, current step) pairs whose step one of ``roles`` decides; None when there are none."""
    pairs = [
        and_(Application.kind == str(kind), Application.current_step == index)
        for kind, workflow in review.WORKFLOWS.items()
        for index, step in enumerate(workflow.steps)
        if step.role in roles
    ]
    return or_(*pairs) if pairs else None


def _may_act(application: Application, actor: review.Actor) -> bool:
    try:
        review.ensure_may_act(workflow_of(application), state_of(application), actor)
    except review.ReviewError:
        return False
    return True


def claim(application_id: str, staff: StaffUser) -> dict[str, Any]:
    """Take an application into one's own queue; refused to anyone who may not decide its current step."""
    with unit_of_work():
        application = get_locked(application_id)
        _review_call(review.ensure_may_act, workflow_of(application), state_of(application), _actor(staff))
        _require_not_claimed_by_other(application, staff)
        if application.claimed_by_staff_id != staff.id:
            application.claimed_by_staff_id = staff.id
            audit.record("staff", staff.id, "application.claimed", "application", application.id,
                         step=_current_step_name(application))
    return staff_view(application_id)


def release(application_id: str, staff: StaffUser) -> dict[str, Any]:
    """Give a claimed application back to the step's queue (the claimer, or an administrator)."""
    with unit_of_work():
        application = get_locked(application_id)
        if application.claimed_by_staff_id is None:
            raise Conflict("该申请未被领取", reason="not_claimed")
        if application.claimed_by_staff_id != staff.id and "admin" not in staff.roles:
            raise Forbidden("只能释放自己领取的申请", reason="claimed_by_other")
        audit.record("staff", staff.id, "application.released", "application", application.id,
                     claimed_by=application.claimed_by_staff_id)
        application.claimed_by_staff_id = None
    return staff_view(application_id)


def _require_not_claimed_by_other(application: Application, staff: StaffUser) -> None:
    if application.claimed_by_staff_id not in (None, staff.id):
        raise Conflict("该申请已被其他经办人员领取", reason="claimed_by_other")


def decide(application_id: str, staff: StaffUser, decision: str, comment: str | None = None,
           reason_code: str | None = None) -> dict[str, Any]:
    """Decide the current step. The decision that completes sign-off triggers the kind's effect (a manual
    settlement, the account payout, the new chronic cap) in the same transaction: all of it or none of it."""
    with unit_of_work():
        application = get_locked(application_id)
        _require_not_claimed_by_other(application, staff)
        record, number = record_decision(application, staff, decision, comment, reason_code)
        _notify_decision(application, record, number)
    return staff_view(application_id)


def record_decision(application: Application, staff: StaffUser, decision: str, comment: str | None,
                    reason_code: str | None, at: dt.datetime | None = None) -> tuple[review.StepRecord, int]:
    """Apply one decision to a (locked) application: the appended step record, the new state, the audit entry
    and, when it completes sign-off, the kind's effect. Part of the caller's transaction.

    Returns the step record and its number in the history (for the notification's dedupe key).
    """
    state = state_of(application)
    step = _current_step_name(application)
    if decision == review.Decision.APPROVE:
        missing = missing_materials(application)
        if missing:
            raise Conflict("材料不全，不能审核通过", reason="materials_missing", missing=missing)
    new_state, record = _review_call(review.decide, workflow_of(application), state, _actor(staff),
                                     decision, reason_code, comment, at or _now_after(state))
    application.steps.append(ReviewStepRecord(
        step=record.step, staff_id=staff.id, decision=str(record.decision), reason_code=record.reason_code,
        comment=record.comment or "", entered_at=record.entered_at, decided_at=record.decided_at,
    ))
    _store_state(application, new_state)
    audit.record("staff", staff.id, "application.decided", "application", application.id,
                 step=step, decision=str(record.decision), reason_code=record.reason_code,
                 comment=record.comment, time_in_step_seconds=int(record.time_in_step.total_seconds()))
    rules = _kind_rules(application.kind)
    if new_state.status is review.ReviewStatus.APPROVED:
        rules.on_signed_off(application, staff)
    elif new_state.status is review.ReviewStatus.REJECTED:
        rules.on_closed(application)
    return record, len(new_state.history)


def _notify_decision(application: Application, record: review.StepRecord, number: int) -> None:
    label = kind_label(application)
    step_label = _step_label(application, record.step)
    transition = f"decision:{number}:{record.decision}"
    status = review.ReviewStatus(application.status)
    if record.decision is review.Decision.REJECT:
        reason = review.REASON_CODES.get(record.reason_code or "other", "")
        notify_applicant(application, transition, f"{label}申请未通过",
                         f"{step_label}未通过：{reason}。{record.comment or ''}")
    elif record.decision is review.Decision.RETURN:
        notify_applicant(application, transition, f"{label}申请需补充材料",
                         f"{step_label}退回：{record.comment or ''}请补充后重新提交。")
    elif status is review.ReviewStatus.APPROVED:
        notify_applicant(application, transition, f"{label}申请审核通过",
                         _kind_rules(application.kind).approved_message(application))
    else:
        next_label = workflow_of(application).steps[application.current_step].label
        notify_applicant(application, transition, f"{label}申请已通过{step_label}",
                         f"您的申请已通过{step_label}，进入{next_label}。")



def mark_paid(application_id: str) -> bool:
    """The money of an approved application went out: ``paid``. Safe to run twice (returns False the second time)."""
    with unit_of_work():
        application = get_locked(application_id)
        if application.status == review.ReviewStatus.PAID:
            return False
        state = _review_call(review.mark_paid, workflow_of(application), state_of(application),
                             _now_after(state_of(application)))
        _store_state(application, state)
        application.payload = {**application.payload, "paid_at": state.since.isoformat()}
        audit.record("system", "jobs", "application.paid", "application", application.id)
        title, body = _kind_rules(application.kind).paid_message(application)
        notify_applicant(application, "paid", title, body)
    return True


# --- views ------------------------------------------------------------------------------------------------------
def staff_view(application_id: str) -> dict[str, Any]:
    """What a reviewer sees: the case, its materials, the history with the time spent in each step and — for a
    reimbursement before sign-off — what the settlement would be now."""
    application = db.session.get(Application, application_id)
    if application is None:
        raise NotFound("未找到该申请", reason="application_not_found")
    db.session.refresh(application)
    person = db.session.get(Person, application.person_id)
    applicant = db.session.get(Person, application.applicant_person_id) if application.applicant_person_id else None
    return {
        **_queue_item(application),
        "applicant": _person_brief(applicant) if applicant is not None else None,
        "person": _person_brief(person),
        "history": [_step_view(record, audience="staff") for record in application.steps],
        "attachments": [attachment_view(a) for a in application.attachments],
        **_kind_rules(application.kind).details(application, "staff"),
    }


def brief_view(application_id: str) -> dict[str, Any]:
    """Status and the kind's details without the review history (for the institution that filed it)."""
    application = db.session.get(Application, application_id)
    if application is None:
        raise NotFound("未找到该申请", reason="application_not_found")
    return {**_summary(application), **_kind_rules(application.kind).details(application, "person")}


def _summary(application: Application) -> dict[str, Any]:
    status = review.ReviewStatus(application.status)
    step = _current_step(application)
    return {
        "application_id": application.id,
        "kind": application.kind,
        "kind_label": kind_label(application),
        "status": str(status),
        "status_label": STATUS_LABELS[status],
        "current_step": {"name": step.name, "label": step.label} if step else None,
        "submitted_at": application.submitted_at,
        "updated_at": application.updated_at,
        "missing_materials": missing_materials(application) if status in UPLOAD_STATUSES else [],
    }


def _queue_item(application: Application) -> dict[str, Any]:
    person = db.session.get(Person, application.person_id)
    claimed_by = db.session.get(StaffUser, application.claimed_by_staff_id) if application.claimed_by_staff_id \
        else None
    waiting = utcnow() - application.step_entered_at
    return {
        **_summary(application),
        "person_name": person.name,
        "person_id_number_masked": mask_id_number(person.id_number),
        "step_entered_at": application.step_entered_at,
        "seconds_in_current_step": max(0, int(waiting.total_seconds())),
        "claimed_by": claimed_by.username if claimed_by else None,
    }


def _step_view(record: ReviewStepRecord, *, audience: str) -> dict[str, Any]:
    view = {
        "step": record.step,
        "step_label": _step_label(record.application, record.step),
        "decision": record.decision,
        "reason_code": record.reason_code,
        "reason_label": review.REASON_CODES.get(record.reason_code) if record.reason_code else None,
        "comment": record.comment or None,
        "entered_at": record.entered_at,
        "decided_at": record.decided_at,
        "seconds_in_step": int((record.decided_at - record.entered_at).total_seconds()),
    }
    if audience == "staff":  # the applicant is not told which member of staff decided
        staff = db.session.get(StaffUser, record.staff_id) if record.staff_id else None
        view["staff"] = staff.username if staff else None
        view["staff_name"] = staff.display_name if staff else None
    return view


def _person_brief(person: Person) -> dict[str, Any]:
    return {"name": person.name, "id_number_masked": mask_id_number(person.id_number), "region": person.region_code,
            "person_type": person.person_type, "status": person.status,
            "living_out_of_province": person.living_out_of_province}


def _current_step(application: Application) -> review.Step | None:
    if review.ReviewStatus(application.status) not in AWAITING_REVIEW:
        return None
    return workflow_of(application).steps[application.current_step]


def _current_step_name(application: Application) -> str | None:
    step = _current_step(application)
    return step.name if step else None


def _step_label(application: Application, name: str) -> str:
    return next((s.label for s in workflow_of(application).steps if s.name == name), name)



# --- demo data ----------------------------------------------------------------------------------------------------
def seed_demo() -> int:
    """A few applications in different states for the demo people; each is made once (found by its demo key).

    Nobody is notified: demo data is not news.
    """
    from backend.services import chronic, reimbursements  # the kind modules build on this one

    created = reimbursements.seed_demo() + chronic.seed_demo()
    db.session.commit()
    return created


def demo_exists(person_id: int, key: str) -> bool:
    return any(application.payload.get("demo_key") == key for application in db.session.scalars(
        select(Application).where(Application.person_id == person_id)))


def staff_by_username(username: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def backdate(application: Application, at: dt.datetime) -> None:
    """Demo data only: the application arrived earlier, so the time in its steps looks like real work."""
    application.submitted_at = application.step_entered_at = at
