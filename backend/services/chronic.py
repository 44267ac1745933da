"""Chronic and special diseases (门诊慢特病): certifying hospitals, qualifications and cap adjustments (NX §15–§17).

- The registry of certifying hospitals (认定医院) is ``Institution.is_chronic_certifier``; a qualification one of
  them certifies is recognised throughout its region (NX §15 "全区互认"), so it must be a hospital of the person's
  own region. It is posted through the signed institution API (NX §16).
- A cap adjustment (调整门诊慢特病最高支付限额) is requested at a hospital of 二级甲等 or above in the region, or —
  for people registered as living out of province — at the agency (online or at the counter). The accepting body
  registers it; the agency reviews it (初审, 审签) and the adjusted cap takes effect **immediately** on approval
  (NX §17): ``ChronicQualification.cap_adjustment_fen`` is what the person's chronic cap is raised by, read by
  the benefits engine at the next settlement.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select

from backend.domain.money import fen_to_yuan
from backend.domain.review import ApplicationType
from backend.errors import Conflict, Forbidden, NotFound, Unprocessable
from backend.extensions import db
from backend.models import Application, ChronicQualification, Institution, Person, StaffUser
from backend.services import application_views, application_workflow, audit, notifications, people
from backend.services.benefits import local_today

ATTACHMENT_KINDS = frozenset({"medical_record", "other"})
AGENCY = "参保地医保经办机构"


# --- the registry and qualifications ------------------------------------------------------------------------------
def certifiers(region: str | None = None) -> list[dict[str, Any]]:
    """The certifying hospitals (认定医院), by region."""
    query = select(Institution).where(Institution.is_chronic_certifier.is_(True), Institution.active.is_(True))
    if region:
        query = query.where(Institution.region_code == region)
    query = query.order_by(Institution.region_code, Institution.code)
    return [institution_brief(institution) for institution in db.session.scalars(query)]


def post_qualification(institution: Institution, request: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """A certifying hospital records a qualification (NX §16); posting the same one again returns it unchanged.

    ``request``: id_number, disease_code, disease_name, valid_from (date), valid_to (date | None).
    Returns (qualification view, created).
    """
    with application_workflow.unit_of_work():
        if not institution.is_chronic_certifier:
            raise Forbidden("本机构不是门诊慢特病认定医院", reason="not_chronic_certifier")
        person = _person_in_region(request["id_number"], institution)
        valid_from, valid_to = request["valid_from"], request.get("valid_to")
        if valid_to is not None and valid_to <= valid_from:
            raise Unprocessable("有效期止不能早于有效期起", reason="invalid_period")
        existing = active_qualification(person.id, request["disease_code"], valid_from)
        if existing is not None:
            return qualification_view(existing), False
        qualification = ChronicQualification(
            person_id=person.id, disease_code=request["disease_code"], disease_name=request["disease_name"],
            certified_by_institution_id=institution.id, valid_from=valid_from, valid_to=valid_to,
            cap_adjustment_fen=0, status="active",
        )
        db.session.add(qualification)
        db.session.flush()
        audit.record("institution", institution.code, "chronic.qualified", "chronic_qualification", qualification.id,
                     disease_code=qualification.disease_code)
        _notify(person.id, f"chronic_qualification:{qualification.id}", "门诊慢特病待遇资格已认定",
                f"{institution.name}已认定您的门诊慢特病资格：{qualification.disease_name}。")
        view = qualification_view(qualification)
    return view, True


def qualifications_for(person_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(select(ChronicQualification).where(ChronicQualification.person_id == person_id)
                              .order_by(ChronicQualification.valid_from.desc(), ChronicQualification.id.desc()))
    return [qualification_view(q) for q in rows]


def qualification_view(qualification: ChronicQualification) -> dict[str, Any]:
    certifier = db.session.get(Institution, qualification.certified_by_institution_id) \
        if qualification.certified_by_institution_id else None
    return {
        "qualification_id": qualification.id,
        "disease_code": qualification.disease_code,
        "disease_name": qualification.disease_name,
        "certified_by": institution_brief(certifier) if certifier else None,
        "valid_from": qualification.valid_from,
        "valid_to": qualification.valid_to,
        "status": qualification.status,
        "cap_adjustment": fen_to_yuan(qualification.cap_adjustment_fen),
    }


# --- cap-adjustment requests ----------------------------------------------------------------------------------
def may_accept_cap_adjustments(institution: Institution) -> bool:
    """二级甲等及以上 (NX §17): any tertiary hospital (三级 ranks above 二级甲等), or a secondary one graded 甲."""
    if institution.kind != "hospital" or not institution.active:
        return False
    return institution.level == "tertiary" or (institution.level == "secondary" and institution.grade == "甲")


def file_at_institution(institution: Institution, request: dict[str, Any]) -> dict[str, Any]:
    """A 二级甲等+ hospital registers a person's request (NX §17). ``request``: id_number, disease_code,
    cap_increase_fen, reason."""
    with application_workflow.unit_of_work():
        if not may_accept_cap_adjustments(institution):
            raise Forbidden("限额调整申请须在二级甲等及以上医疗机构办理", reason="institution_not_eligible")
        person = _person_in_region(request["id_number"], institution)
        application = _new_request(person, request, channel="institution", filed_at=institution)
        audit.record("institution", institution.code, "application.submitted", "application", application.id,
                     kind=application.kind)
        application_id = application.id
    return application_views.brief_view(application_id)


def file_online(person_id: int, request: dict[str, Any]) -> dict[str, Any]:
    """The person applies to the agency online: only for people registered as living out of province (NX §17)."""
    with application_workflow.unit_of_work():
        person = people.get(person_id)
        _require_living_out_of_province(person)
        application = _new_request(person, request, channel="online", filed_at=None)
        audit.record("person", person.id, "application.submitted", "application", application.id,
                     kind=application.kind)
        application_id = application.id
    return application_views.status_view(person_id, application_id)


def file_by_agency(staff: StaffUser, request: dict[str, Any]) -> dict[str, Any]:
    """Counter staff register the request of a person living out of province (NX §17). ``request`` has id_number."""
    with application_workflow.unit_of_work():
        person = people.by_id_number(request["id_number"].upper())
        if person is None:
            raise NotFound("未找到该参保人", reason="person_not_found")
        _require_living_out_of_province(person)
        application = _new_request(person, request, channel="counter", filed_at=None, staff=staff)
        audit.record("staff", staff.id, "application.submitted", "application", application.id,
                     kind=application.kind, on_behalf_of=person.id)
        application_id = application.id
    return application_views.staff_view(application_id)


def _require_living_out_of_province(person: Person) -> None:
    if not person.living_out_of_province:
        raise Unprocessable("请到区内二级甲等及以上医疗机构申请调整门诊慢特病支付限额",
                            reason="cap_adjust_at_hospital")


def _new_request(person: Person, request: dict[str, Any], *, channel: str, filed_at: Institution | None,
                 staff: StaffUser | None = None) -> Application:
    qualification = active_qualification(person.id, request["disease_code"], local_today())
    if qualification is None:
        raise Unprocessable("未认定该病种的门诊慢特病资格", reason="no_chronic_qualification")
    if request["cap_increase_fen"] <= 0:
        raise Unprocessable("调整额度须大于零", reason="invalid_amount")
    _require_no_open_request(qualification.id)
    payload = {
        "qualification_id": qualification.id, "disease_code": qualification.disease_code,
        "disease_name": qualification.disease_name, "cap_increase_fen": request["cap_increase_fen"],
        "reason": (request.get("reason") or "").strip(), "channel": channel,
        "filed_at_institution": institution_brief(filed_at) if filed_at else None,
    }
    application = application_workflow.new_application(ApplicationType.CHRONIC_CAP_ADJUST, person, payload,
                                               filed_by_staff_id=staff.id if staff else None)
    application_workflow.notify_applicant(application, "submitted", "门诊慢特病限额调整申请已受理",
                                  f"{filed_at.name if filed_at else AGENCY}已受理您的{qualification.disease_name}"
                                  "支付限额调整申请，医保经办机构审核后即时生效。")
    return application


def _require_no_open_request(qualification_id: int) -> None:
    for application in db.session.scalars(select(Application).where(
            Application.kind == str(ApplicationType.CHRONIC_CAP_ADJUST),
            Application.status.in_([str(s) for s in application_workflow.OPEN_STATUSES]))):
        if application.payload.get("qualification_id") == qualification_id:
            raise Conflict("该病种已有办理中的限额调整申请", reason="application_open", application_id=application.id)


def _person_in_region(id_number: str, institution: Institution) -> Person:
    person = people.by_id_number(id_number.upper())
    if person is None:
        raise NotFound("未找到该参保人", reason="person_not_found")
    if person.region_code != institution.region_code:  # recognised region-wide, not beyond (NX §15)
        raise Unprocessable("参保人不在本机构所在统筹地区参保", reason="person_out_of_region")
    return person


def active_qualification(person_id: int, disease_code: str, on_date: dt.date) -> ChronicQualification | None:
    return db.session.scalar(select(ChronicQualification).where(
        ChronicQualification.person_id == person_id, ChronicQualification.disease_code == disease_code,
        ChronicQualification.status == "active", ChronicQualification.valid_from <= on_date,
        # valid_to is exclusive, as in the benefits engine's look-up
        or_(ChronicQualification.valid_to.is_(None), ChronicQualification.valid_to > on_date),
    ).order_by(ChronicQualification.id.desc()).limit(1))


# --- the hooks of the review engine -----------------------------------------------------------------------------
def required_materials(application: Application) -> dict[str, int]:
    """None: the accepting hospital or agency has registered and assessed the request (NX §17)."""
    return {}


def apply_changes(application: Application, changes: dict[str, Any]) -> None:
    if "cap_increase_fen" in changes:
        if changes["cap_increase_fen"] <= 0:
            raise Unprocessable("调整额度须大于零", reason="invalid_amount")
        application.payload = {**application.payload, "cap_increase_fen": changes["cap_increase_fen"]}


def on_signed_off(application: Application, staff: StaffUser) -> None:
    """Effective immediately (NX §17): the very next settlement and caps look-up use the raised cap."""
    qualification = db.session.get(ChronicQualification, application.payload["qualification_id"])
    if qualification is None or qualification.status != "active":
        raise Conflict("该门诊慢特病资格已失效", reason="no_chronic_qualification")
    previous = qualification.cap_adjustment_fen
    qualification.cap_adjustment_fen = application.payload["cap_increase_fen"]
    audit.record("staff", staff.id, "chronic.cap_adjusted", "chronic_qualification", qualification.id,
                 application_id=application.id, previous_fen=previous, new_fen=qualification.cap_adjustment_fen)


def on_closed(application: Application) -> None:
    """Nothing is held while a cap adjustment is under review."""


def approved_message(application: Application) -> str:
    increase = fen_to_yuan(application.payload["cap_increase_fen"])
    return f"{application.payload['disease_name']}门诊慢特病年度支付限额已上调 {increase} 元，即时生效。"


def paid_message(application: Application) -> tuple[str, str]:
    raise AssertionError("cap adjustments are never paid out")


def details(application: Application, audience: str) -> dict[str, Any]:
    payload = application.payload
    return {
        "disease_code": payload["disease_code"], "disease_name": payload["disease_name"],
        "cap_increase": fen_to_yuan(payload["cap_increase_fen"]), "reason": payload["reason"],
        "channel": payload["channel"],
        "filed_at": payload["filed_at_institution"] or {"name": AGENCY},
    }


def institution_brief(institution: Institution) -> dict[str, Any]:
    return {"code": institution.code, "name": institution.name, "region": institution.region_code,
            "level": institution.level, "grade": institution.grade}


def _notify(person_id: int, dedupe_key: str, title: str, body: str) -> None:
    notifications.notify(person_id, "chronic", title, body, dedupe_key=dedupe_key)


application_workflow.register_kind(ApplicationType.CHRONIC_CAP_ADJUST, application_workflow.KindRules(
    attachment_kinds=ATTACHMENT_KINDS, required_materials=required_materials, details=details,
    on_signed_off=on_signed_off, on_closed=on_closed, approved_message=approved_message,
    paid_message=paid_message, apply_changes=apply_changes,
))
