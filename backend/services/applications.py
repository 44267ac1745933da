"""Applications: what the applicant and the reviewers do with them, whatever their kind.

The engine is ``application_workflow`` (state, decisions, kind registry), the read side ``application_views``,
uploads ``application_attachments``. Importing this module registers every kind (``chronic``, ``payouts``,
``reimbursements``), so the API layers reach all of them through it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from backend.domain import review
from backend.errors import Conflict, Forbidden, Unprocessable
from backend.extensions import db
from backend.models import Application, StaffUser, utcnow
from backend.services import audit, chronic, payouts, reimbursements  # noqa: F401  (the kinds register themselves)
from backend.services.application_attachments import add_attachment as add_attachment
from backend.services.application_attachments import attachment_file as attachment_file
from backend.services.application_views import list_for_person as list_for_person
from backend.services.application_views import queue_item, staff_view, status_view
from backend.services.application_workflow import (
    AWAITING_REVIEW,
    actor_of,
    current_step_name,
    ensure_may_act,
    get_locked,
    kind_label,
    kind_rules,
    materials_missing_for_resubmission,
    missing_materials,
    notify_applicant,
    record_decision,
    review_call,
    state_of,
    step_label,
    store_state,
    unit_of_work,
    visible_to,
    workflow_of,
)

QUEUES = ("step", "mine")


def ensure_visible(person_id: int, application_id: str, kind: str | None = None) -> None:
    """404 unless the application is the person's (and of ``kind``, when given)."""
    visible_to(person_id, application_id, kind=kind)


def supplement(person_id: int, application_id: str, comment: str | None = None,
               changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A returned application, completed by the applicant, starts its review again at the first step."""
    with unit_of_work():
        application = visible_to(person_id, application_id, lock=True)
        state = review_call(review.supplement, state_of(application), utcnow())
        if changes:
            kind_rules(application.kind).apply_changes(application, changes)
        missing = missing_materials(application)
        if missing:
            raise Unprocessable("材料不全，请上传后再提交", reason="materials_incomplete", missing=missing)
        requested = materials_missing_for_resubmission(application, changed=bool(changes))
        if requested:
            raise Unprocessable("请先上传退回时要求补充的材料，再重新提交", reason="requested_material_missing",
                                missing=requested)
        store_state(application, state)
        supplements = sum(1 for r in application.steps if r.decision == review.Decision.RETURN)
        audit.record("person", person_id, "application.supplemented", "application", application.id,
                     comment=(comment or "")[:500], changed=sorted(changes or {}))
        notify_applicant(application, f"supplemented:{supplements}", f"{kind_label(application)}申请已重新提交",
                         "您补充的材料已提交，申请将重新进入初审。")
    return status_view(person_id, application_id)


def withdraw(person_id: int, application_id: str) -> dict[str, Any]:
    """The applicant takes the application back; only before any decision was made on it."""
    with unit_of_work():
        application = visible_to(person_id, application_id, lock=True)
        state = review_call(review.withdraw, state_of(application), utcnow())
        store_state(application, state)
        kind_rules(application.kind).on_closed(application)
        audit.record("person", person_id, "application.withdrawn", "application", application.id)
        notify_applicant(application, "withdrawn", f"{kind_label(application)}申请已撤回", "您已撤回该申请。")
    return status_view(person_id, application_id)


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
    actor = actor_of(staff)
    found = []
    for application in db.session.scalars(query):
        if which == "step" and not _may_act(application, actor):
            continue
        if which == "step" and missing_materials(application):
            continue
        found.append(queue_item(application))
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
        review_call(review.ensure_may_act, workflow_of(application), state_of(application), actor_of(staff))
        _require_not_claimed_by_other(application, staff)
        if application.claimed_by_staff_id != staff.id:
            application.claimed_by_staff_id = staff.id
            audit.record("staff", staff.id, "application.claimed", "application", application.id,
                         step=current_step_name(application))
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
           reason_code: str | None = None, requested_materials: list[str] | None = None) -> dict[str, Any]:
    """Decide the current step. The decision that completes sign-off triggers the kind's effect (a manual
    settlement, the account payout, the new chronic cap) in the same transaction: all of it or none of it.

    A return may name the materials the applicant must upload (``requested_materials``, attachment kinds);
    re-submission is refused until they are there. Authorisation (403) is checked before any state (409).
    """
    with unit_of_work():
        application = get_locked(application_id)
        ensure_may_act(application, staff)
        _require_not_claimed_by_other(application, staff)
        record, number = record_decision(application, staff, decision, comment, reason_code,
                                         requested_materials=requested_materials)
        _notify_decision(application, record, number)
    return staff_view(application_id)


def _notify_decision(application: Application, record: review.StepRecord, number: int) -> None:
    label = kind_label(application)
    step = step_label(application, record.step)
    transition = f"decision:{number}:{record.decision}"
    status = review.ReviewStatus(application.status)
    if record.decision is review.Decision.REJECT:
        reason = review.REASON_CODES.get(record.reason_code or "other", "")
        notify_applicant(application, transition, f"{label}申请未通过",
                         f"{step}未通过：{reason}。{record.comment or ''}")
    elif record.decision is review.Decision.RETURN:
        notify_applicant(application, transition, f"{label}申请需补充材料",
                         f"{step}退回：{record.comment or ''}请补充后重新提交。")
    elif status is review.ReviewStatus.APPROVED:
        notify_applicant(application, transition, f"{label}申请审核通过",
                         kind_rules(application.kind).approved_message(application))
    else:
        next_label = workflow_of(application).steps[application.current_step].label
        notify_applicant(application, transition, f"{label}申请已通过{step}",
                         f"您的申请已通过{step}，进入{next_label}。")


