"""Sign-in of insured people: WeChat/Alipay code → platform user → bound person → tokens.

A platform user not yet bound gets a short-lived bind token (its own audience) and must prove who they are with
name + ID number. Failed binds are counted per platform user: more than BIND_FAILURES_PER_HOUR in an hour → 429.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from limits import parse
from sqlalchemy import select

from backend.errors import (
    AppError, Forbidden, NotFound, ServiceUnavailable, TooManyRequests, Unauthorized, Unprocessable,
)
from backend.extensions import db, limiter
from backend.integrations.errors import AuthCodeInvalid, PlatformError, UserHighRisk
from backend.models import PlatformBinding
from backend.services import audit, identity, people, platforms, tokens

@dataclass(frozen=True)
class LoginResult:
    bound: bool
    body: dict[str, Any]


def dev_login(id_number: str) -> dict[str, Any]:
    """Development only (DEV_LOGIN=1): tokens for a person by ID number, no platform involved."""
    person = people.by_id_number(identity.checked_id_number(id_number))
    if person is None:
        raise NotFound("未找到该参保人", reason="person_not_found")
    pair = tokens.issue_pair("insured", str(person.id))
    db.session.commit()
    return {**pair.as_dict(), "person": people.summary(person)}


def wechat_login(code: str) -> LoginResult:
    session = _call_platform(lambda: platforms.wechat().code_to_session(code))
    return _login("wechat", session.openid, session.unionid)


def alipay_login(auth_code: str) -> LoginResult:
    user = _call_platform(lambda: platforms.alipay().auth_code_to_user(auth_code))
    return _login("alipay", user.subject, None)


def bind(bind_token: str, name: str, id_number: str) -> dict[str, Any]:
    """Bind the platform user named in the bind token to the person with this name and ID number."""
    claims = tokens.decode_access_token(bind_token, "bind")
    platform, separator, platform_user_id = str(claims["sub"]).partition(":")
    if not separator or platform not in ("wechat", "alipay") or not platform_user_id:
        raise Unauthorized("登录凭证无效，请重新登录", reason="token_invalid")
    _refuse_when_too_many_failures(platform, platform_user_id)
    try:
        person = _matching_person(name, id_number)
    except AppError:
        _count_failure(platform, platform_user_id)
        raise
    binding = _binding(platform, platform_user_id) or PlatformBinding(
        platform=platform, platform_user_id=platform_user_id, unionid=claims.get("unionid"), person_id=person.id
    )
    binding.person_id = person.id
    db.session.add(binding)
    audit.record("person", person.id, "auth.bind", "person", person.id, platform=platform)
    pair = tokens.issue_pair("insured", str(person.id))
    db.session.commit()
    return {**pair.as_dict(), "person": people.summary(person)}


def _login(platform: str, platform_user_id: str, unionid: str | None) -> LoginResult:
    binding = _binding(platform, platform_user_id)
    if binding is None:
        bind_token = tokens.issue_access_token(
            "bind", f"{platform}:{platform_user_id}", current_app.config["BIND_TOKEN_TTL_SECONDS"], unionid=unionid
        )
        return LoginResult(False, {"bound": False, "bind_token": bind_token,
                                   "expires_in": current_app.config["BIND_TOKEN_TTL_SECONDS"]})
    pair = tokens.issue_pair("insured", str(binding.person_id))
    db.session.commit()
    return LoginResult(True, {"bound": True, **pair.as_dict(), "person": people.summary(binding.person)})


def _binding(platform: str, platform_user_id: str) -> PlatformBinding | None:
    return db.session.scalar(select(PlatformBinding).where(
        PlatformBinding.platform == platform, PlatformBinding.platform_user_id == platform_user_id))


def _matching_person(name: str, id_number: str):
    person = people.by_id_number(identity.checked_id_number(id_number))
    # One answer for "no such person" and "wrong name": the pair is what is checked.
    if person is None or person.name != name.strip():
        raise Unprocessable("姓名与身份证号码不匹配，或未查询到参保信息", reason="identity_mismatch")
    return person


def _bind_limit():
    return parse(f"{current_app.config['BIND_FAILURES_PER_HOUR']}/hour")


def _refuse_when_too_many_failures(platform: str, platform_user_id: str) -> None:
    if not limiter.limiter.test(_bind_limit(), "bind-failures", platform, platform_user_id):
        raise TooManyRequests("核验失败次数过多，请一小时后再试", reason="too_many_bind_attempts")


def _count_failure(platform: str, platform_user_id: str) -> None:
    limiter.limiter.hit(_bind_limit(), "bind-failures", platform, platform_user_id)


def _call_platform(call):
    try:
        return call()
    except AuthCodeInvalid as exc:
        raise Unauthorized(exc.message, reason=exc.code) from None
    except UserHighRisk as exc:
        raise Forbidden(exc.message, reason=exc.code) from None
    except PlatformError as exc:  # outage, rate limit or our own misconfiguration: nothing the user can fix
        raise ServiceUnavailable(exc.message, reason=exc.code) from None
