"""Bearer-token checks for views. Each sets ``g.caller_scope`` (used to scope idempotency keys)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import g, request

from backend.errors import Forbidden, Unauthorized
from backend.services import staff as staff_service
from backend.services.tokens import decode_access_token


@dataclass(frozen=True)
class AuthRequirement:
    """What a decorator below asks of the caller; the OpenAPI document's security and 401/403 derive from it."""

    kind: str  # "person" | "staff"
    optional: bool = False
    roles: tuple[str, ...] = ()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _required_token() -> str:
    token = bearer_token()
    if token is None:
        raise Unauthorized("请先登录", reason="token_missing")
    return token


def _subject_id(claims: dict[str, Any]) -> int:
    """The numeric id a person or staff token names; a signed token with anything else in ``sub`` is refused."""
    subject = claims["sub"]
    if not (isinstance(subject, str) and subject.isascii() and subject.isdigit() and len(subject) <= 10):
        raise Unauthorized("登录凭证无效，请重新登录", reason="token_invalid")
    return int(subject)


def authenticate_person() -> int:
    claims = decode_access_token(_required_token(), "insured")
    g.person_id = _subject_id(claims)
    g.caller_scope = f"person:{g.person_id}"
    return g.person_id


def require_person(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        authenticate_person()
        return view(*args, **kwargs)

    wrapper.auth_requirement = require_person.auth_requirement
    return wrapper


require_person.auth_requirement = AuthRequirement("person")


def optional_person(view: Callable[..., Any]) -> Callable[..., Any]:
    """Anonymous callers pass with ``g.person_id = None``; a bad token is still refused."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.person_id = None
        if bearer_token() is not None:
            authenticate_person()
        return view(*args, **kwargs)

    wrapper.auth_requirement = optional_person.auth_requirement
    return wrapper


optional_person.auth_requirement = AuthRequirement("person", optional=True)


def require_staff(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Staff token with at least one of ``roles`` (any role when none are named)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            claims = decode_access_token(_required_token(), "staff")
            staff = staff_service.active_staff(_subject_id(claims))
            if staff is None:
                raise Unauthorized("账号已停用", reason="staff_inactive")
            if roles and not set(roles) & set(staff.roles):
                raise Forbidden("您的岗位无权进行此操作", reason="role_required", required=list(roles))
            g.staff = staff
            g.caller_scope = f"staff:{staff.id}"
            return view(*args, **kwargs)

        wrapper.auth_requirement = requirement
        return wrapper

    requirement = AuthRequirement("staff", roles=tuple(roles))
    decorator.auth_requirement = requirement
    return decorator
