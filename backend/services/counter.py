"""What staff see of an insured person: the counter's look-up (masked results), the person's page (account, caps,
settlements, grants both ways, applications), the deliberate reveal of a full ID number, and the stored scanned
承诺书 of a counter grant or revoke. Every read of personal data here is audited (``audit.record_read``) and each
function that audits is one transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from backend.domain.identity import mask_id_number
from backend.errors import NotFound, Unprocessable
from backend.extensions import db
from backend.models import Person, SharingGrant
from backend.services import accounts, applications, audit, benefits, files, people, settlements, sharing
from backend.services import application_workflow
from backend.services.application_workflow import unit_of_work
from backend.services.credits import local_today

MAX_RESULTS = 50
PERSON_TYPE_LABELS = {"employed": "在职职工", "retired": "退休人员", "flexible": "灵活就业人员"}
PERSON_STATUS_LABELS = {"active": "正常参保", "arrears": "欠费", "suspended": "暂停参保", "terminated": "终止参保"}
REGION_LABELS = {"nx": "宁夏", "nm": "内蒙古"}


def find(staff_id: int, *, name: str | None = None, id_number: str | None = None,
         limit: int = 20) -> list[dict[str, Any]]:
    """People matching a name (prefix) and/or an ID number (whole, or a fragment of at least 4 characters),
    results masked. 422 query_too_short without either. Audited with the query masked."""
    name, id_number = (name or "").strip(), (id_number or "").strip().upper()
    if not name and len(id_number) < 4:
        raise Unprocessable("请输入姓名，或身份证号码（至少4位）", reason="query_too_short")
    query = select(Person).order_by(Person.name, Person.id).limit(max(1, min(limit, MAX_RESULTS)))
    if name:
        query = query.where(Person.name.startswith(name, autoescape=True))
    if len(id_number) == 18:
        query = query.where(Person.id_number == id_number)
    elif id_number:
        query = query.where(Person.id_number.contains(id_number, autoescape=True))
    with unit_of_work():
        found = [brief(person) for person in db.session.scalars(query)]
        audit.record_read(staff_id, "person_search", "person", "-", name=name or None,
                          id_number=mask_id_number(id_number) if len(id_number) >= 15 else id_number or None,
                          results=len(found))
    return found


def brief(person: Person) -> dict[str, Any]:
    """A person as staff lists show them: ID number masked, labels in Chinese."""
    return {"person_id": person.id, "name": person.name, "id_number_masked": mask_id_number(person.id_number),
            "region": person.region_code, "region_label": REGION_LABELS.get(person.region_code, person.region_code),
            "person_type": person.person_type,
            "person_type_label": PERSON_TYPE_LABELS.get(person.person_type, person.person_type),
            "status": person.status, "status_label": PERSON_STATUS_LABELS.get(person.status, person.status),
            "living_out_of_province": person.living_out_of_province}


def open_person(staff_id: int, person_id: int) -> dict[str, Any]:
    """The person's page at the counter (audited as a read)."""
    with unit_of_work():
        view = overview(person_id)
        audit.record_read(staff_id, "person", "person", person_id)
    return view


def overview(person_id: int) -> dict[str, Any]:
    """Account, caps, recent settlements, grants both ways and applications. Writes nothing."""
    person = people.get(person_id)
    year = local_today().year
    account = accounts.of_person(person_id)
    return {
        "person": brief(person),
        "account": accounts.summary(person_id, year) if account is not None else None,
        "caps": benefits.caps(person_id, year),
        "settlements": settlements.list_for_person(person_id, page_size=10),
        "grants": [_grant_line(grant, person_id) for grant in
                   sharing.list_grants(person_id, "given") + sharing.list_grants(person_id, "received")],
        "applications": applications.list_for_person(person_id),
    }


def caller_context(person_id: int) -> dict[str, Any]:
    """What a chat agent sees beside the transcript: who is asking and where they stand (masked; no audit of its
    own — the transcript view it accompanies is audited)."""
    view = overview(person_id)
    return {**view, "grants": [g for g in view["grants"] if g["status"] == "active"],
            "applications": [a for a in view["applications"] if a["status"] in application_workflow.OPEN_STATUSES]}


def reveal_id_number(staff_id: int, person_id: int, purpose: str) -> str:
    """The full ID number, shown on a deliberate click and audited with why it was needed."""
    purpose = (purpose or "").strip()[:200]
    if not purpose:
        raise Unprocessable("请说明查看完整身份证号码的原因", reason="purpose_required")
    with unit_of_work():
        person = people.get(person_id)
        audit.record_read(staff_id, "id_number", "person", person_id, purpose=purpose)
    return person.id_number


PROMISE_SCANS = {"grant": "授权", "revoke": "解除授权"}


def promise_file(staff_id: int, grant_id: str, which: str = "grant") -> tuple[Path, str, str]:
    """The scanned 承诺书 signed at the counter for a grant or its revoke: (path, content type, download name).
    404 promise_not_stored for an online act (accepted electronically, no paper). Audited."""
    grant = db.session.get(SharingGrant, grant_id)
    if grant is None or which not in PROMISE_SCANS:
        raise NotFound("未找到该授权", reason="grant_not_found")
    stored = _promise_paths(grant).get(which)
    if stored is None:
        raise NotFound("该授权没有窗口签署的承诺书扫描件（线上办理为电子确认）", reason="promise_not_stored")
    path = files.open_stored(stored)
    with unit_of_work():
        audit.record_read(staff_id, "promise", "sharing_grant", grant.id, which=which)
    return path, _content_type(path), f"promise-{which}-{grant.id}{path.suffix}"


def _promise_paths(grant: SharingGrant) -> dict[str, str]:
    paths = {"grant": grant.signed_promise_path, "revoke": grant.revoke_signed_promise_path}
    return {which: path for which, path in paths.items() if path}


def _content_type(path: Path) -> str:
    return {".pdf": "application/pdf", ".png": "image/png"}.get(path.suffix.lower(), "image/jpeg")


def _grant_line(grant: SharingGrant, person_id: int) -> dict[str, Any]:
    view = sharing.grant_view(grant, person_id)
    return {**view, "signed_promises": sorted(_promise_paths(grant))}


# --- acts at the counter on the person's behalf ------------------------------------------------------------------
def grant_for(staff_id: int, person_id: int, *, relative_name: str, relative_id_number: str, relation: str,
              promise_filename: str, promise_bytes: bytes) -> dict[str, Any]:
    """A grant made at the counter for the person whose page is open, with the signed 承诺书 scanned (NX §7)."""
    stored = files.store_upload(promise_filename, promise_bytes)
    grant = sharing.grant(people.get(person_id).id, relative_name=relative_name,
                          relative_id_number=relative_id_number, relation=relation, promise_accepted=True,
                          channel="counter", staff_id=staff_id, signed_promise_path=stored.storage_path)
    return sharing.grant_view(grant, person_id)


def revoke_for(staff_id: int, person_id: int, grant_id: str, *, promise_filename: str,
               promise_bytes: bytes) -> dict[str, Any]:
    """A revoke at the counter of a grant the person gave, with the signed 承诺书 scanned."""
    stored = files.store_upload(promise_filename, promise_bytes)
    grant = sharing.revoke(person_id, grant_id, channel="counter", staff_id=staff_id,
                           signed_promise_path=stored.storage_path)
    return sharing.grant_view(grant, person_id)


def grant_form_facts(person_id: int) -> dict[str, Any]:
    """The relations the person may name and the 承诺书 text to print and sign."""
    return sharing.promise_for(person_id)
