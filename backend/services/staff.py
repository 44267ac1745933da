"""Agency staff: sign-in and look-ups."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from backend.errors import Unauthorized
from backend.extensions import db
from backend.models import StaffUser
from backend.services import audit, tokens

# Compared against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def active_staff(staff_id: int) -> StaffUser | None:
    staff = db.session.get(StaffUser, staff_id)
    return staff if staff is not None and staff.active else None


def login(username: str, password: str) -> tokens.TokenPair:
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if staff is None or not staff.active:
        check_password_hash(_DUMMY_HASH, password)
        raise Unauthorized("用户名或密码错误", reason="invalid_credentials")
    if not check_password_hash(staff.password_hash, password):
        raise Unauthorized("用户名或密码错误", reason="invalid_credentials")
    pair = tokens.issue_pair("staff", str(staff.id), roles=list(staff.roles))
    audit.record("staff", staff.id, "staff.login", "staff", staff.id)
    db.session.commit()
    return pair


def upsert(username: str, display_name: str, password: str, roles: list[str]) -> StaffUser:
    """Create or update a staff account (seed data, administration). Part of the caller's transaction."""
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    if staff is None:
        staff = StaffUser(username=username, display_name=display_name, password_hash="", roles=[])
        db.session.add(staff)
    staff.display_name, staff.roles = display_name, list(roles)
    if not staff.password_hash or not check_password_hash(staff.password_hash, password):
        staff.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    return staff
