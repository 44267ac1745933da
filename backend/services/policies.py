"""Policy versions in the database: loading the shipped documents and finding the version in force.

Documents are immutable once stored (a change of policy is a new version), so parsed versions are cached by code.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from backend.domain.policy import (
    InvalidPolicyDocument,
    NoPolicyInForce,
    OverlappingPolicyVersions,
    Policy,
    check_versions,
    select_version,
)
from backend.errors import Conflict, NotFound, Unprocessable
from backend.extensions import db
from backend.models import PolicyVersion, Region
from backend.services import audit

log = logging.getLogger(__name__)
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "policies"
REGION_NAMES = {"nx": "宁夏回族自治区", "nm": "内蒙古自治区"}
_parsed: dict[tuple[str, dt.date | None], Policy] = {}
_versions_of_the_day: dict[tuple[str, dt.date], tuple[Policy, ...]] = {}


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


def in_force_up_to_today(region: str, on_date: dt.date, today: dt.date) -> Policy:
    """``in_force`` for a service date no later than today, reading the versions once a day (the settlement path).

    Exact rather than a cache that may go stale: a version added today starts tomorrow at the earliest
    (add_version), and an open end is only ever closed at such a start, so what covers any day up to today cannot
    change before tomorrow, when the key changes. A miss is looked up afresh.
    """
    if on_date > today:
        return in_force(region, on_date)
    versions = _versions_of_the_day.get((region, today))
    if versions is None:
        rows = db.session.scalars(select(PolicyVersion).where(PolicyVersion.region_code == region)).all()
        versions = tuple(_parse(row) for row in rows)
        if any(day != today for _, day in _versions_of_the_day):
            _versions_of_the_day.clear()
        _versions_of_the_day[(region, today)] = versions
    try:
        return select_version(versions, region, on_date)
    except (NoPolicyInForce, OverlappingPolicyVersions):
        return in_force(region, on_date)


def _parse(row: PolicyVersion) -> Policy:
    # The row's valid_to is the authority: an open end may be closed when a successor is added (add_version).
    key = (row.code, row.valid_to)
    if key not in _parsed:
        _parsed[key] = replace(Policy.from_document(row.document), valid_to=row.valid_to)
    return _parsed[key]


def version(code: str) -> Policy:
    """A stored version by its code (e.g. to re-run the engine on a settlement's own version)."""
    row = db.session.scalar(select(PolicyVersion).where(PolicyVersion.code == code))
    if row is None:
        raise NotFound("未找到该政策版本", reason="policy_version_not_found", version=code)
    return _parse(row)


def list_versions(region: str | None = None) -> list[PolicyVersion]:
    query = select(PolicyVersion).order_by(PolicyVersion.region_code, PolicyVersion.valid_from)
    if region:
        query = query.where(PolicyVersion.region_code == region)
    return list(db.session.scalars(query))


def version_summary(row: PolicyVersion, today: dt.date) -> dict:
    """A stored version as staff see it in lists (the document itself left out)."""
    return {
        "version": row.code, "region": row.region_code, "label": row.label,
        "valid_from": row.valid_from.isoformat(), "valid_to": row.valid_to.isoformat() if row.valid_to else None,
        "sample": row.is_sample, "created_by_staff_id": row.created_by_staff_id,
        "created_at": row.created_at.isoformat(),
        "in_force_today": row.valid_from <= today and (row.valid_to is None or today < row.valid_to),
        "started": row.valid_from <= today,
    }


def version_views(today: dt.date, region: str | None = None) -> list[dict]:
    return [version_summary(row, today) for row in list_versions(region)]


def version_detail(code: str, today: dt.date) -> dict:
    """One version with its whole document (read-only: a stored version is never edited)."""
    row = db.session.scalar(select(PolicyVersion).where(PolicyVersion.code == code))
    if row is None:
        raise NotFound("未找到该政策版本", reason="policy_version_not_found", version=code)
    return {**version_summary(row, today), "document": row.document}


def add_version(document: dict, *, staff_id: int | None, today: dt.date) -> PolicyVersion:
    """Store a new version (commits, audited). It must start after today, so no fee judged so far changes.

    A stored version is never edited, with one exception that changes no judgement already made: when the new
    version starts after the region's open-ended version, that version's open end is closed at the new start.
    Any other overlap is refused.
    """
    try:
        policy = Policy.from_document(document)
    except InvalidPolicyDocument as exc:
        raise Unprocessable("政策文件不符合要求", reason=exc.reason, problems=list(exc.problems)) from None
    if db.session.scalar(select(PolicyVersion.id).where(PolicyVersion.code == policy.version)):
        raise Conflict("该政策版本编号已存在", reason="policy_version_exists", version=policy.version)
    if policy.valid_from <= today:
        raise Unprocessable("新政策版本只能自明日及以后生效，已生效的版本不得修改", reason="valid_from_not_in_future",
                            valid_from=policy.valid_from.isoformat())
    ensure_regions()
    rows = list_versions(policy.region)
    closed = _close_open_end(rows, policy)
    try:
        check_versions([*(_parse(row) for row in rows), policy])
    except OverlappingPolicyVersions as exc:
        db.session.rollback()
        raise Conflict("与已有政策版本的有效期重叠", reason=exc.reason,
                       overlapping=[list(pair) for pair in exc.pairs]) from None
    row = _row(policy, document)
    row.created_by_staff_id = staff_id
    db.session.add(row)
    audit.record("staff", staff_id, "policy_version_added", "policy_version", policy.version,
                 region=policy.region, valid_from=policy.valid_from.isoformat(),
                 valid_to=policy.valid_to.isoformat() if policy.valid_to else None,
                 closed_open_end_of=closed.code if closed else None)
    db.session.commit()
    return row


def _close_open_end(rows: list[PolicyVersion], new: Policy) -> PolicyVersion | None:
    """The region's open-ended version that started before the new one: its end becomes the new start."""
    for row in rows:
        if row.valid_to is None and row.valid_from < new.valid_from:
            row.valid_to = new.valid_from
            return row
    return None


def _row(policy: Policy, document: dict) -> PolicyVersion:
    return PolicyVersion(
        code=policy.version, region_code=policy.region, valid_from=policy.valid_from, valid_to=policy.valid_to,
        label=policy.label, is_sample=policy.sample, document=document,
    )
