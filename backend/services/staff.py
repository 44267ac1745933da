"""Agency staff: sign-in (API tokens; the console's sessions are in ``staff_sessions``) and the administration of
staff accounts (create, roles, deactivate, reactivate, reset password).

Failed sign-ins are recorded in the audit log and limited per username and per client address
(STAFF_LOGIN_FAILURES_PER_USERNAME / _PER_ADDRESS): past the limit even the right password is refused until the
window passes, so guessing cannot continue. Deactivating an account or resetting its password ends its console
sessions and refresh tokens in the same transaction; its access tokens stop at the next request because every
staff request reads ``active_staff``.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from limits import parse
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from backend.errors import Conflict, NotFound, TooManyRequests, Unauthorized, Unprocessable
from backend.extensions import db, limiter
from backend.models import StaffSession, StaffUser, utcnow
from backend.models.staff import STAFF_ROLES as STAFF_ROLES  # the roles, for the views' forms and checks
from backend.services import audit, tokens
from backend.services.application_workflow import unit_of_work

# Compared against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 10
ROLE_LABELS = {"first_reviewer": "初审", "second_reviewer": "复审", "leader": "审签", "agent": "客服（人工客服、窗口）",
               "admin": "管理员"}


def active_staff(staff_id: int) -> StaffUser | None:
    staff = db.session.get(StaffUser, staff_id)
    return staff if staff is not None and staff.active else None


def by_username(username: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def authenticate(username: str, password: str, *, client_address: str | None, channel: str) -> StaffUser:
    """The active member of staff with this username and password.

    A failure is committed to the audit log before the error is raised, so the caller's rollback cannot lose it.
    429 too_many_login_failures once the limit is reached; 401 invalid_credentials otherwise."""
    keys = (("username", username.lower()), ("address", client_address or "unknown"))
    if not all(limiter.limiter.test(_failure_limit(kind), "staff-login-failures", kind, key) for kind, key in keys):
        _record_failure(username, client_address, channel, "too_many_failures")
        raise TooManyRequests("登录失败次数过多，请15分钟后再试", reason="too_many_login_failures")
    staff = by_username(username)
    if staff is None or not staff.active:
        check_password_hash(_DUMMY_HASH, password)
        ok = False
    else:
        ok = check_password_hash(staff.password_hash, password)
    if not ok:
        for kind, key in keys:
            limiter.limiter.hit(_failure_limit(kind), "staff-login-failures", kind, key)
        _record_failure(username, client_address, channel, "invalid_credentials")
        raise Unauthorized("用户名或密码错误", reason="invalid_credentials")
    return staff


def login(username: str, password: str, client_address: str | None = None) -> tokens.TokenPair:
    """Bearer tokens for the JSON staff API."""
    with unit_of_work():
        staff = authenticate(username, password, client_address=client_address, channel="api")
        pair = tokens.issue_pair("staff", str(staff.id), roles=list(staff.roles))
        audit.record("staff", staff.id, "staff.login", "staff", staff.id, channel="api")
    return pair


def _failure_limit(kind: str):
    setting = {"username": "STAFF_LOGIN_FAILURES_PER_USERNAME", "address": "STAFF_LOGIN_FAILURES_PER_ADDRESS"}[kind]
    return parse(current_app.config[setting])


def _record_failure(username: str, client_address: str | None, channel: str, reason: str) -> None:
    db.session.rollback()
    audit.record("anonymous", client_address or "unknown", "staff.login_failed", "staff_username", username[:64],
                 channel=channel, reason=reason)
    db.session.commit()


# --- administration ----------------------------------------------------------------------------------------------
def upsert(username: str, display_name: str, password: str, roles: list[str]) -> StaffUser:
    """Create or update a staff account (seed data). Part of the caller's transaction."""
    staff = by_username(username)
    if staff is None:
        staff = StaffUser(username=username, display_name=display_name, password_hash="", roles=[])
        db.session.add(staff)
    staff.display_name, staff.roles = display_name, list(roles)
    if not staff.password_hash or not check_password_hash(staff.password_hash, password):
        staff.password_hash = _hash_password(password)
    return staff


def list_accounts(include_inactive: bool = True) -> list[dict[str, Any]]:
    query = select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.username)
    if not include_inactive:
        query = query.where(StaffUser.active.is_(True))
    return [account_view(staff) for staff in db.session.scalars(query)]


def get_account(staff_id: int) -> dict[str, Any]:
    return account_view(_get(staff_id))


def create(admin_id: int, *, username: str, display_name: str, roles: list[str], password: str) -> dict[str, Any]:
    """A new staff account. 409 username_taken; 422 roles_invalid / password_too_short. Commits."""
    with unit_of_work():
        username = _checked_username(username)
        if by_username(username) is not None:
            raise Conflict("该用户名已被使用", reason="username_taken")
        staff = StaffUser(username=username, display_name=_checked_display_name(display_name),
                          password_hash=_hash_password(_checked_password(password)), roles=_checked_roles(roles))
        db.session.add(staff)
        db.session.flush()
        audit.record("staff", admin_id, "staff.created", "staff", staff.id, username=username, roles=staff.roles)
    return account_view(staff)


def edit(admin_id: int, staff_id: int, *, roles: list[str] | None = None,
           display_name: str | None = None) -> dict[str, Any]:
    """Change roles and/or the display name. An administrator cannot take their own admin role away. Commits."""
    with unit_of_work():
        staff = _get(staff_id, lock=True)
        if roles is not None:
            new_roles = _checked_roles(roles)
            if staff.id == admin_id and "admin" not in new_roles:
                raise Unprocessable("不能取消自己的管理员岗位", reason="cannot_demote_self")
            if new_roles != list(staff.roles):
                audit.record("staff", admin_id, "staff.roles_changed", "staff", staff.id,
                             before=list(staff.roles), after=new_roles)
                staff.roles = new_roles
        if display_name is not None and display_name != staff.display_name:
            staff.display_name = _checked_display_name(display_name)
            audit.record("staff", admin_id, "staff.renamed", "staff", staff.id, display_name=staff.display_name)
    return account_view(staff)


def deactivate(admin_id: int, staff_id: int) -> dict[str, Any]:
    """Stop an account now: its console sessions and refresh tokens end in this transaction, its access tokens
    at their next request (``active_staff``). 422 cannot_deactivate_self. Commits."""
    with unit_of_work():
        if staff_id == admin_id:
            raise Unprocessable("不能停用自己的账号", reason="cannot_deactivate_self")
        staff = _get(staff_id, lock=True)
        if staff.active:
            staff.active = False
            ended = end_sessions_of(staff.id, "deactivated")
            tokens.revoke_all_for("staff", str(staff.id))
            audit.record("staff", admin_id, "staff.deactivated", "staff", staff.id, sessions_ended=ended)
    tokens.revoke_subject("staff", str(staff.id))  # after the commit; the per-request active check covers Redis outages
    return account_view(staff)


def reactivate(admin_id: int, staff_id: int) -> dict[str, Any]:
    with unit_of_work():
        staff = _get(staff_id, lock=True)
        if not staff.active:
            staff.active = True
            audit.record("staff", admin_id, "staff.reactivated", "staff", staff.id)
    return account_view(staff)


def reset_password(admin_id: int, staff_id: int, new_password: str) -> dict[str, Any]:
    """Set a new password (the member of staff is told it in person); every session and token of theirs ends."""
    with unit_of_work():
        staff = _get(staff_id, lock=True)
        staff.password_hash = _hash_password(_checked_password(new_password))
        ended = end_sessions_of(staff.id, "password")
        tokens.revoke_all_for("staff", str(staff.id))
        audit.record("staff", admin_id, "staff.password_reset", "staff", staff.id, sessions_ended=ended)
    tokens.revoke_subject("staff", str(staff.id))
    return account_view(staff)


def end_sessions_of(staff_id: int, reason: str) -> int:
    """End every open console session of one member of staff. Part of the caller's transaction; returns how many."""
    return db.session.execute(
        update(StaffSession).where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    ).rowcount


def account_view(staff: StaffUser) -> dict[str, Any]:
    return {"id": staff.id, "username": staff.username, "display_name": staff.display_name,
            "roles": list(staff.roles), "role_labels": [ROLE_LABELS.get(r, r) for r in staff.roles],
            "active": staff.active, "created_at": staff.created_at}


def _get(staff_id: int, lock: bool = False) -> StaffUser:
    query = select(StaffUser).where(StaffUser.id == staff_id)
    if lock:
        query = query.with_for_update()
    staff = db.session.scalar(query)
    if staff is None:
        raise NotFound("未找到该工作人员", reason="staff_not_found")
    return staff


def _checked_username(username: str) -> str:
    username = (username or "").strip()
    if not (2 <= len(username) <= 64) or not username.replace("_", "").replace(".", "").replace("-", "").isalnum() \
            or not username.isascii():
        raise Unprocessable("用户名须为2-64位字母、数字、下划线、点或连字符", reason="username_invalid")
    return username


def _checked_display_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 64:
        raise Unprocessable("请填写姓名（不超过64个字）", reason="display_name_invalid")
    return name


def _checked_roles(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - set(STAFF_ROLES))
    if unknown or not roles:
        raise Unprocessable("请至少选择一个有效岗位", reason="roles_invalid", allowed=list(STAFF_ROLES))
    return [role for role in STAFF_ROLES if role in roles]


def _checked_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"密码至少{MIN_PASSWORD_LENGTH}位", reason="password_too_short")
    return password


def _hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
