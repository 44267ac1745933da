"""Demo applications in different states: reimbursements waiting for first review, in second review and
returned, and a chronic cap adjustment waiting for first review.

Each is made once (found by its demo key). Nobody is notified: demo data is not news.
"""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import select

from backend.domain.review import ApplicationType
from backend.extensions import db
from backend.models import Application, Attachment, ChronicQualification, Institution, StaffUser, utcnow
from backend.services import application_workflow, chronic, files, people, reimbursements
from backend.services.benefits import local_today



def demo_pdf() -> bytes:
    """A blank one-page A4 PDF: uploads are opened whole, so the demo's files must be real (same bytes each run)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def demo_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (240, 240, 240)).save(out, format="PNG")
    return out.getvalue()

# (demo key, ID number, invoice, amount fen, institution, level, paper invoice, decisions by (username, decision,
#  comment, reason code))
DEMO_CLAIMS = (
    ("rb-awaiting-first-review", "640104198506120314", "DEMO-NX-0001", 86_000, "银川市第二人民医院", "secondary",
     False, ()),
    ("rb-in-second-review", "640106198709150428", "DEMO-NX-0002", 152_000, "宁夏医科大学总医院", "tertiary", True,
     (("reviewer1", "approve", None, None),)),
    ("rb-returned", "640106196008220025", "DEMO-NX-0003", 43_000, "宁夏医科大学总医院", "tertiary", True,
     (("reviewer1", "return", "发票图片不清晰，请重新拍照上传", "materials_incomplete"),)),
)
DEMO_PATIENT = "640302196201090512"  # 马海, retired, 石嘴山
DEMO_CERTIFIER = "NX-T-001"


def seed() -> int:
    """All demo applications, in one transaction."""
    created = _seed_reimbursements() + _seed_chronic()
    db.session.commit()
    return created


def _seed_reimbursements() -> int:
    created = 0
    start = utcnow() - dt.timedelta(days=2)
    for key, id_number, number, amount, institution, level, paper, decisions in DEMO_CLAIMS:
        person = people.by_id_number(id_number)
        if person is None or _exists(person.id, key):
            continue
        request = {
            "visit_date": local_today() - dt.timedelta(days=10), "institution_name": institution,
            "hospital_level": level, "cross_province": False, "self_paid_by_choice": False, "med_type": "general",
            "invoices": [{"number": number, "amount_fen": amount, "electronic": not paper}],
            "items": [{"name": "门诊诊疗及药品费", "amount_fen": amount, "in_scope": True}],
            "payee": {"kind": "social_security_card"},
        }
        payload = {**reimbursements.checked_payload(person, request, application_id=None), "demo_key": key}
        application = application_workflow.new_application(ApplicationType.REIMBURSEMENT, person, payload,
                                                           applicant_person_id=person.id)
        _backdate(application, start)
        reimbursements.hold_invoices(application)
        _attach_files(application, paper)
        for hours, (username, decision, comment, reason_code) in enumerate(decisions, start=3):
            staff = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
            application_workflow.record_decision(application, staff, decision, comment, reason_code,
                                                 at=start + dt.timedelta(hours=hours))
        created += 1
    return created


def _attach_files(application: Application, paper: bool) -> None:
    files_to_store = ([("fee_list", "门诊费用清单.pdf", demo_pdf())]
                      + ([("invoice", "发票.png", demo_png())] if paper else []))
    for kind, name, data in files_to_store:
        stored = files.store_upload(name, data)
        application.attachments.append(Attachment(
            kind=kind, filename=stored.filename, content_type=stored.content_type, size_bytes=stored.size_bytes,
            sha256=stored.sha256, storage_path=stored.storage_path))
    db.session.flush()


def _seed_chronic() -> int:
    """A demo qualification (高血压) and a cap-adjustment request waiting for first review."""
    person = people.by_id_number(DEMO_PATIENT)
    hospital = db.session.scalar(select(Institution).where(Institution.code == DEMO_CERTIFIER))
    if person is None or hospital is None or _exists(person.id, "ca-awaiting-first-review"):
        return 0
    qualification = chronic.active_qualification(person.id, "I10", local_today())
    if qualification is None:
        qualification = ChronicQualification(
            person_id=person.id, disease_code="I10", disease_name="高血压", certified_by_institution_id=hospital.id,
            valid_from=dt.date(local_today().year, 1, 1), valid_to=None, cap_adjustment_fen=0, status="active")
        db.session.add(qualification)
        db.session.flush()
    payload = {
        "qualification_id": qualification.id, "disease_code": "I10", "disease_name": "高血压",
        "cap_increase_fen": 200_000, "reason": "合并多种并发症，需联合用药", "channel": "institution",
        "filed_at_institution": chronic.institution_brief(hospital), "demo_key": "ca-awaiting-first-review",
    }
    application_workflow.new_application(ApplicationType.CHRONIC_CAP_ADJUST, person, payload)
    return 1


def _exists(person_id: int, key: str) -> bool:
    return any(application.payload.get("demo_key") == key for application in db.session.scalars(
        select(Application).where(Application.person_id == person_id)))


def _backdate(application: Application, at: dt.datetime) -> None:
    """The application arrived earlier, so the time in its steps looks like real work."""
    application.submitted_at = application.step_entered_at = at
