"""Server-side sessions of the staff console.

Signing in checks the password (see ``staff.authenticate``: failures recorded and rate-limited) and stores a
session row keyed by the SHA-256 of a random token; the browser keeps only the token. Every page load resolves
the token to an *active* staff account through ``current``: a session past its idle timeout or maximum age, or
of an account deactivated meanwhile, ends there and then — so deactivation takes effect on the very next click.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from sqlalchemy import select

from backend.extensions import db
from backend.models import StaffSession, StaffUser, utcnow
from backend.services import audit, staff
from backend.services.application_workflow import unit_of_work

# Touch last_seen_at at most this often: a page load is a read, and most need no write.
_TOUCH_EVERY = dt.timedelta(seconds=60)


def sign_in(username: str, password: str, *, client_address: str | None, user_agent: str | None) -> str:
    """A new session for the member of staff; returns the raw token for the cookie. Commits."""
    with unit_of_work():
        member = staff.authenticate(username, password, client_address=client_address, channel="console")
        raw = secrets.token_urlsafe(32)
        db.session.add(StaffSession(token_hash=_hash(raw), staff_id=member.id, client_address=client_address,
                                    user_agent=(user_agent or "")[:200]))
        audit.record("staff", member.id, "staff.login", "staff", member.id, channel="console",
                     client_address=client_address)
    return raw


def current(raw_token: str | None) -> StaffUser | None:
    """The active member of staff behind a session token, or None (and the session ended) when it no longer holds.

    Commits only when it changes something (the idle clock, or ending the session)."""
    if not raw_token:
        return None
    session = db.session.scalar(select(StaffSession).where(StaffSession.token_hash == _hash(raw_token)))
    if session is None or session.ended_at is not None:
        return None
    now = utcnow()
    reason = _end_reason(session, now)
    if reason is not None:
        _end(session, reason, now)
        db.session.commit()
        return None
    if now - session.last_seen_at >= _TOUCH_EVERY:
        session.last_seen_at = now
        db.session.commit()
    return staff.active_staff(session.staff_id)


def sign_out(raw_token: str | None) -> None:
    """End the session (a token that is unknown or already ended changes nothing). Commits."""
    if not raw_token:
        return
    with unit_of_work():
        session = db.session.scalar(select(StaffSession).where(StaffSession.token_hash == _hash(raw_token)))
        if session is not None and session.ended_at is None:
            _end(session, "sign_out", utcnow())
            audit.record("staff", session.staff_id, "staff.logout", "staff", session.staff_id, channel="console")


def _end_reason(session: StaffSession, now: dt.datetime) -> str | None:
    config = current_app.config
    if staff.active_staff(session.staff_id) is None:
        return "deactivated"
    if now - session.created_at > dt.timedelta(seconds=config["STAFF_SESSION_MAX_SECONDS"]):
        return "expired"
    if now - session.last_seen_at > dt.timedelta(seconds=config["STAFF_SESSION_IDLE_SECONDS"]):
        return "idle"
    return None


def _end(session: StaffSession, reason: str, now: dt.datetime) -> None:
    session.ended_at, session.end_reason = now, reason


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()
