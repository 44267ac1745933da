"""Materials of an application: uploads by the applicant (file and row together or not at all), reads by staff."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import select

from backend.domain import review
from backend.errors import Conflict, NotFound, Unprocessable
from backend.extensions import db
from backend.models import Application, Attachment
from backend.services import audit, files
from backend.services.application_views import attachment_view
from backend.services.application_workflow import MAX_ATTACHMENTS, UPLOAD_STATUSES, kind_rules, visible_to

log = logging.getLogger(__name__)


def add_attachment(person_id: int, application_id: str, kind: str, filename: str, data: bytes) -> dict[str, Any]:
    """Store one uploaded file for the person's application: the file and its row are saved together or not at all.

    Everything that can refuse the upload is checked before the file is written; if the row still cannot be
    committed, a file no other row uses is removed again. The same bytes uploaded again as the same kind (a retry:
    multipart bodies differ on every attempt, so an Idempotency-Key cannot match them) return the first attachment.
    """
    application = visible_to(person_id, application_id, lock=True)
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
    rules = kind_rules(application.kind)
    if kind not in rules.attachment_kinds:
        raise Unprocessable("不支持的材料类型", reason="attachment_kind_invalid", allowed=sorted(rules.attachment_kinds))
    if review.ReviewStatus(application.status) not in UPLOAD_STATUSES:
        raise Conflict("该申请当前状态不能上传材料", reason="invalid_transition", application_status=application.status)
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

