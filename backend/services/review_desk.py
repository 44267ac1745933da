"""The reviewers' desk in the console: application queues with filters and paging, the case as a reviewer sees it
(with whether *I* may decide it and, if not, why — separation of duties shown, not only refused), and the
materials. Opening a case and viewing an attachment are reads of personal data and are audited.

Filtering: the database narrows by kind, step, status and submission date; who may act (roles, separation of
duties, claims), complete materials and the amount are judged per application in Python, as the work queue does —
open applications number in the hundreds, not millions, and the rules stay in one place (``backend.domain.review``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from backend.domain import review
from backend.domain.identity import mask_id_number
from backend.domain.money import fen_to_yuan
from backend.extensions import db
from backend.models import Application, Person, StaffUser
from backend.services import applications, audit
from backend.services.application_workflow import unit_of_work

QUEUES = {"step": "待我办理", "mine": "我已领取", "all": "全部在办"}
KINDS = {"reimbursement": "零星报销", "payout": "个人账户一次性返还", "chronic_cap_adjust": "慢特病限额调整"}
STEPS = {"first_review": "初审", "second_review": "复审", "sign_off": "审签"}
AMOUNT_KEYS = ("claimed_fen", "payout_amount_fen", "cap_increase_fen")
MAX_SCANNED = 5000


@dataclass(frozen=True)
class QueueFilters:
    queue: str = "step"
    kind: str | None = None
    step: str | None = None
    submitted_from: dt.datetime | None = None
    submitted_until: dt.datetime | None = None
    amount_min_fen: int | None = None
    amount_max_fen: int | None = None
    person: str | None = None  # a name (prefix) or the last digits of the ID number


def search(staff: StaffUser, filters: QueueFilters, page: int = 1, page_size: int = 25) -> dict[str, Any]:
    """Open applications matching the filters, oldest step first, a page at a time."""
    page, page_size = max(1, page), max(1, min(page_size, 100))
    actor = review.Actor(staff.id, frozenset(staff.roles))
    matching = [a for a in db.session.scalars(_query(staff, filters)) if _keeps(a, staff, actor, filters)]
    rows = matching[(page - 1) * page_size: page * page_size]
    return {"items": [queue_item(a) for a in rows], "total": len(matching), "page": page, "page_size": page_size}


def _query(staff: StaffUser, filters: QueueFilters):
    query = (select(Application).join(Person, Person.id == Application.person_id)
             .where(Application.status.in_([str(s) for s in applications.AWAITING_REVIEW]))
             .options(selectinload(Application.steps), selectinload(Application.attachments))
             .order_by(Application.step_entered_at, Application.id).limit(MAX_SCANNED))
    if filters.kind:
        query = query.where(Application.kind == filters.kind)
    if filters.queue == "mine":
        query = query.where(Application.claimed_by_staff_id == staff.id)
    elif filters.queue == "step":
        query = query.where(or_(Application.claimed_by_staff_id.is_(None), Application.claimed_by_staff_id == staff.id))
    if filters.submitted_from:
        query = query.where(Application.submitted_at >= filters.submitted_from)
    if filters.submitted_until:
        query = query.where(Application.submitted_at < filters.submitted_until)
    if filters.person:
        text = filters.person.strip()
        query = query.where(or_(Person.name.startswith(text, autoescape=True),
                                Person.id_number.endswith(text.upper(), autoescape=True)))
    return query


def _keeps(application: Application, staff: StaffUser, actor: review.Actor, filters: QueueFilters) -> bool:
    step = _step_name(application)
    if filters.step and step != filters.step:
        return False
    amount = amount_fen(application)
    if filters.amount_min_fen is not None and (amount is None or amount < filters.amount_min_fen):
        return False
    if filters.amount_max_fen is not None and (amount is None or amount > filters.amount_max_fen):
        return False
    if filters.queue == "step":
        return may_decide(application, actor) is None and not applications.missing_materials(application)
    return True


def amount_fen(application: Application) -> int | None:
    return next((application.payload[key] for key in AMOUNT_KEYS if key in application.payload), None)


def may_decide(application: Application, actor: review.Actor) -> str | None:
    """None when the actor may decide the current step; else why not, in Chinese."""
    try:
        review.ensure_may_act(applications.workflow_of(application), applications.state_of(application), actor)
    except review.AlreadyActedOnAnotherStep as exc:
        return f"{exc.message}（职责分离：同一申请的各审核环节须由不同人员办理）"
    except review.ReviewError as exc:
        return exc.message
    return None


def queue_item(application: Application) -> dict[str, Any]:
    person = db.session.get(Person, application.person_id)
    claimed = db.session.get(StaffUser, application.claimed_by_staff_id) if application.claimed_by_staff_id else None
    step = _step_name(application)
    amount = amount_fen(application)
    return {"application_id": application.id, "kind": application.kind, "kind_label": KINDS[application.kind],
            "status": application.status, "step": step, "step_label": STEPS.get(step or "", "—"),
            "person_name": person.name, "person_id_number_masked": mask_id_number(person.id_number),
            "amount": fen_to_yuan(amount) if amount is not None else None,
            "submitted_at": application.submitted_at, "step_entered_at": application.step_entered_at,
            "seconds_waiting": max(0, int((dt.datetime.now(dt.timezone.utc) - application.step_entered_at)
                                          .total_seconds())),
            "claimed_by": claimed.username if claimed else None,
            "materials_complete": not applications.missing_materials(application)}


def _step_name(application: Application) -> str | None:
    if review.ReviewStatus(application.status) not in applications.AWAITING_REVIEW:
        return None
    return applications.workflow_of(application).steps[application.current_step].name


# --- the case ---------------------------------------------------------------------------------------------------
def open_case(staff: StaffUser, application_id: str) -> dict[str, Any]:
    """The reviewer's view of a case plus whether this staff member may decide it now (and why not). Audited."""
    view = applications.staff_view(application_id)
    application = db.session.get(Application, application_id)
    actor = review.Actor(staff.id, frozenset(staff.roles))
    awaiting = review.ReviewStatus(application.status) in applications.AWAITING_REVIEW
    blocked = may_decide(application, actor) if awaiting else "该申请已办结"
    if blocked is None and application.claimed_by_staff_id not in (None, staff.id):
        blocked = "该申请已被其他经办人员领取"
    with unit_of_work():
        audit.record_read(staff.id, "case", "application", application_id)
    return {**view, "amount": fen_to_yuan(amount_fen(application)) if amount_fen(application) is not None else None,
            "may_decide": blocked is None, "blocked_reason": blocked,
            "claimed_by_me": application.claimed_by_staff_id == staff.id,
            "steps": [{"name": s.name, "label": s.label, "role": str(s.role)}
                      for s in applications.workflow_of(application).steps]}


def attachment(staff: StaffUser, application_id: str, attachment_id: int):
    """An attachment's row and path, for viewing inline. Audited."""
    found, path = applications.attachment_file(application_id, attachment_id)
    with unit_of_work():
        audit.record_read(staff.id, "attachment", "application", application_id, attachment_id=attachment_id,
                          kind=found.kind)
    return found, path
