"""Access JWTs and rotating refresh tokens.

Access tokens: HS256 only (pinned), with exp/iat/sub/aud/iss required, and one audience per surface so a token for
insured people is refused by the staff API and the other way round. Refresh tokens: random, stored as SHA-256,
rotated on every use; presenting a spent one revokes its whole family (it was stolen or replayed).

Revocation of access tokens before they expire (docs/reliability.md): an access token names its refresh family
(``fam``); signing out or a detected reuse puts the family on a revocation list in Redis, and deactivating a person
puts the subject there (every token issued before that moment). Entries live as long as an access token can.
Without Redis the list cannot be read: tokens are then accepted until they expire (at most ACCESS_TOKEN_TTL_SECONDS)
and a warning is logged — signing in and out keep working.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from flask import current_app
from sqlalchemy import select, update

import redis
from backend.errors import Forbidden, Unauthorized
from backend.extensions import db, redis_store
from backend.models import RefreshToken, utcnow

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
AUDIENCES = {"insured": "medins:insured", "staff": "medins:staff", "bind": "medins:bind"}
REQUIRED_CLAIMS = ["exp", "iat", "sub", "aud", "iss"]
LEEWAY_SECONDS = 5


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def as_dict(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "token_type": "Bearer", "expires_in": self.expires_in}


def issue_access_token(audience: str, subject: str, ttl_seconds: int | None = None, **claims: Any) -> str:
    now = utcnow()
    ttl = ttl_seconds or current_app.config["ACCESS_TOKEN_TTL_SECONDS"]
    payload = {
        **claims,
        "iss": current_app.config["JWT_ISSUER"],
        "aud": AUDIENCES[audience],
        "sub": subject,
        "iat": now,
        "exp": now + dt.timedelta(seconds=ttl),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, current_app.config["SECRET_KEY"], algorithm=ALGORITHM)


def decode_access_token(token: str, audience: str) -> dict[str, Any]:
    """The token's claims, if it is valid for ``audience`` and not revoked."""
    claims = _decoded(token, audience)
    if audience != "bind" and _revoked(claims, audience):
        raise Unauthorized("登录已失效，请重新登录", reason="token_revoked")
    return claims


def _decoded(token: str, audience: str) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            current_app.config["SECRET_KEY"],
            algorithms=[ALGORITHM],
            audience=AUDIENCES[audience],
            issuer=current_app.config["JWT_ISSUER"],
            options={"require": REQUIRED_CLAIMS},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("登录已过期，请重新登录", reason="token_expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise Forbidden("该凭证不能用于此服务", reason="token_audience_mismatch") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("登录凭证无效，请重新登录", reason="token_invalid") from exc


def revoke_subject(audience: str, subject: str) -> None:
    """Every access token of this subject issued until now stops working (a person or staff member deactivated)."""
    _remember(_subject_key(audience, subject), str(int(utcnow().timestamp())))


def _revoked(claims: dict[str, Any], audience: str) -> bool:
    try:
        family, since = redis_store.client.mget(
            _family_key(claims.get("fam") or "-"), _subject_key(audience, str(claims["sub"])))
    except redis.RedisError as exc:
        log.warning("token revocation list unavailable, accepting the token until it expires: %s", exc)
        return False
    return family is not None or (since is not None and int(claims["iat"]) <= int(since))


def _remember(key: str, value: str) -> None:
    try:
        redis_store.client.set(key, value, ex=current_app.config["ACCESS_TOKEN_TTL_SECONDS"] + LEEWAY_SECONDS)
    except redis.RedisError as exc:
        log.warning("token revocation not recorded (Redis unavailable); access tokens expire on their own: %s", exc)


def _family_key(family_id: str) -> str:
    return redis_store.key("revoked", "family", family_id)


def _subject_key(audience: str, subject: str) -> str:
    return redis_store.key("revoked", "subject", audience, subject)


def issue_pair(audience: str, subject: str, family_id: str | None = None, **claims: Any) -> TokenPair:
    """Add a refresh token to the session (the caller's transaction commits it) and return both tokens."""
    raw = secrets.token_urlsafe(32)
    family_id = family_id or secrets.token_hex(16)
    db.session.add(RefreshToken(
        token_hash=_hash(raw),
        family_id=family_id,
        audience=audience,
        subject=subject,
        expires_at=utcnow() + dt.timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL_SECONDS"]),
    ))
    return TokenPair(issue_access_token(audience, subject, fam=family_id, **claims), raw,
                     current_app.config["ACCESS_TOKEN_TTL_SECONDS"])


def rotate(raw_refresh_token: str, audience: str) -> TokenPair:
    """Spend a refresh token for a new pair in the same family. One transaction."""
    token = db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _hash(raw_refresh_token)).with_for_update()
    )
    if token is None or token.audience != audience:
        raise Unauthorized("登录凭证无效，请重新登录", reason="refresh_token_invalid")
    if token.used_at is not None or token.revoked_at is not None:
        _revoke_family(token.family_id)
        db.session.commit()
        raise Unauthorized("登录凭证已失效，请重新登录", reason="refresh_token_reused")
    if token.expires_at <= utcnow():
        raise Unauthorized("登录已过期，请重新登录", reason="refresh_token_expired")
    token.used_at = utcnow()
    pair = issue_pair(audience, token.subject, family_id=token.family_id)
    db.session.flush()
    token.replaced_by_id = db.session.scalar(
        select(RefreshToken.id).where(RefreshToken.token_hash == _hash(pair.refresh_token))
    )
    db.session.commit()
    return pair


def revoke(raw_refresh_token: str) -> None:
    """Sign out: the whole family of the presented token stops working."""
    token = db.session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _hash(raw_refresh_token)))
    if token is not None:
        _revoke_family(token.family_id)
    db.session.commit()


def _revoke_family(family_id: str) -> None:
    _remember(_family_key(family_id), "1")  # before the commit: a token must not outlive its family's revoke
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def revoke_all_for(audience: str, subject: str) -> None:
    """Every refresh token of one subject stops working (an account deactivated). Part of the caller's transaction."""
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.audience == audience, RefreshToken.subject == subject, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
