"""Policy versions in the database: loading the shipped documents and finding the version in force.

Documents are immutable once stored (a change of policy is a new version), so parsed versions are cached by code.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

from sqlalchemy import select

from backend.domain.policy import NoPolicyInForce, Policy, check_versions, select_version
from backend.errors import Unprocessable
from backend.extensions import db
from backend.models import PolicyVersion, Region

log = logging.getLogger(__name__)
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "policies"
REGION_NAMES = {"nx": "宁夏回族自治区", "nm": "内蒙古自治区"}
_parsed: dict[str, Policy] = {}


def shipped_documents() -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(SHIPPED_DIR.glob("*.json"))]


def load_shipped() -> int:
    """Store the shipped versions that are not stored yet; a stored version is never changed. Returns the count."""
    ensure_regions()
    documents = shipped_documents()
    check_versions(Policy.from_document(doc) for doc in documents)
    stored = set(db.session.scalars(select(PolicyVersion.code)))
    added = 0
    for document in documents:
        if document["version"] in stored:
            continue
        db.session.add(_row(Policy.from_document(document), document))
        added += 1
    db.session.commit()
    return added


def ensure_regions() -> None:
    for code, name in REGION_NAMES.items():
        if db.session.get(Region, code) is None:
            db.session.add(Region(code=code, name=name))
    db.session.flush()


def in_force(region: str, on_date: dt.date) -> Policy:
    """The version that judges a fee of this region on this service date."""
    rows = db.session.scalars(select(PolicyVersion).where(PolicyVersion.region_code == region)).all()
    try:
        return select_version((_parse(row) for row in rows), region, on_date)
    except NoPolicyInForce:
        raise Unprocessable(f"{on_date.isoformat()} 不在任何已发布政策的有效期内", reason="no_policy_in_force",
                            region=region, date=on_date.isoformat()) from None


def _parse(row: PolicyVersion) -> Policy:
    if row.code not in _parsed:
        _parsed[row.code] = Policy.from_document(row.document)
    return _parsed[row.code]


def _row(policy: Policy, document: dict) -> PolicyVersion:
    return PolicyVersion(
        code=policy.version, region_code=policy.region, valid_from=policy.valid_from, valid_to=policy.valid_to,
        label=policy.label, is_sample=policy.sample, document=document,
    )
