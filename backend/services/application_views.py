"""Applications as the applicant and the reviewers see them: status, steps, materials and the kind's details."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from backend.domain import review
from backend.domain.identity import mask_id_number
from backend.errors import NotFound
from backend.extensions import db
from backend.models import Application, Attachment, Person, ReviewStepRecord, StaffUser, utcnow
from backend.services.application_workflow import (
    STATUS_LABELS,
    UPLOAD_STATUSES,
    current_step,
    kind_label,
    kind_rules,
    materials_missing_for_resubmission,
    missing_materials,
    step_label,
    visible_to,
)


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
    # With the kind's details: a paid payout's list entry shows its amount and when it was paid.
    return [{**summary(application), **kind_rules(application.kind).details(application, "person")}
            for application in db.session.scalars(query)]


def status_view(person_id: int, application_id: str, kind: str | None = None) -> dict[str, Any]:
    """Status, the review steps so far, what is still missing and, once approved, the outcome (404 if not theirs)."""
    application = visible_to(person_id, application_id, kind=kind)
    return {
        **summary(application),
        "steps": [step_view(record, audience="person") for record in application.steps],
        "attachments": [attachment_view(a) for a in application.attachments],
        **kind_rules(application.kind).details(application, "person"),
    }


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
        **queue_item(application),
        "applicant": person_brief(applicant) if applicant is not None else None,
        "person": person_brief(person),
        "history": [step_view(record, audience="staff") for record in application.steps],
        "attachments": [attachment_view(a) for a in application.attachments],
        **kind_rules(application.kind).details(application, "staff"),
    }


def brief_view(application_id: str) -> dict[str, Any]:
    """Status and the kind's details without the review history (for the institution that filed it)."""
    application = db.session.get(Application, application_id)
    if application is None:
        raise NotFound("未找到该申请", reason="application_not_found")
    return {**summary(application), **kind_rules(application.kind).details(application, "person")}


def summary(application: Application) -> dict[str, Any]:
    status = review.ReviewStatus(application.status)
    step = current_step(application)
    return {
        "application_id": application.id,
        "kind": application.kind,
        "kind_label": kind_label(application),
        "status": str(status),
        "status_label": STATUS_LABELS[status],
        "current_step": {"name": step.name, "label": step.label} if step else None,
        "submitted_at": application.submitted_at,
        "updated_at": application.updated_at,
        "missing_materials": _still_needed(application, status),
    }


def _still_needed(application: Application, status: review.ReviewStatus) -> list[dict[str, Any]]:
    """The materials to upload now: the kind's required ones, and after a return those the reviewer asked for."""
    if status not in UPLOAD_STATUSES:
        return []
    needed = missing_materials(application)
    if status is review.ReviewStatus.RETURNED:
        needed += [item for item in materials_missing_for_resubmission(application, changed=False)
                   if item["kind"] != "any" and all(item["kind"] != other["kind"] for other in needed)]
    return needed


def queue_item(application: Application) -> dict[str, Any]:
    person = db.session.get(Person, application.person_id)
    claimed_by = db.session.get(StaffUser, application.claimed_by_staff_id) if application.claimed_by_staff_id \
        else None
    waiting = utcnow() - application.step_entered_at
    return {
        **summary(application),
        "person_name": person.name,
        "person_id_number_masked": mask_id_number(person.id_number),
        "step_entered_at": application.step_entered_at,
        "seconds_in_current_step": max(0, int(waiting.total_seconds())),
        "claimed_by": claimed_by.username if claimed_by else None,
    }


def step_view(record: ReviewStepRecord, *, audience: str) -> dict[str, Any]:
    view = {
        "step": record.step,
        "step_label": step_label(record.application, record.step),
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


def person_brief(person: Person) -> dict[str, Any]:
    return {"name": person.name, "id_number_masked": mask_id_number(person.id_number), "region": person.region_code,
            "person_type": person.person_type, "status": person.status,
            "living_out_of_province": person.living_out_of_province}

