"""Access JWTs and rotating refresh tokens.

Access tokens: HS256 only (pinned), with exp/iat/sub/aud/iss required, and one audience per surface so a token for
insured people is refused by the staff API and the other way round. Refresh tokens: random, stored as SHA-256,
rotated on every use; presenting a spent one revokes its whole family (it was stolen or replayed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from flask import current_app
from sqlalchemy import select, update

from backend.errors import Forbidden, Unauthorized
from backend.extensions import db
from backend.models import RefreshToken, utcnow

ALGORITHM = "HS256"
AUDIENCES = {"insured": "medins:insured", "staff": "medins:staff", "bind": "medins:bind"}
REQUIRED_CLAIMS = ["exp", "iat", "sub", "aud", "iss"]


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
    }
    return jwt.encode(payload, current_app.config["SECRET_KEY"], algorithm=ALGORITHM)


def decode_access_token(token: str, audience: str) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            current_app.config["SECRET_KEY"],
            algorithms=[ALGORITHM],
            audience=AUDIENCES[audience],
            issuer=current_app.config["JWT_ISSUER"],
            options={"require": REQUIRED_CLAIMS},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("登录已过期，请重新登录", reason="token_expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise Forbidden("该凭证不能用于此服务", reason="token_audience_mismatch") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("登录凭证无效，请重新登录", reason="token_invalid") from exc


def issue_pair(audience: str, subject: str, family_id: str | None = None, **claims: Any) -> TokenPair:
    """Add a refresh token to the session (the caller's transaction commits it) and return both tokens."""
    raw = secrets.token_urlsafe(32)
    db.session.add(RefreshToken(
        token_hash=_hash(raw),
        family_id=family_id or secrets.token_hex(16),
        audience=audience,
        subject=subject,
        expires_at=utcnow() + dt.timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL_SECONDS"]),
    ))
    return TokenPair(issue_access_token(audience, subject, **claims), raw,
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
