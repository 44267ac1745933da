"""Designated institutions: look-ups for the signed API."""

from __future__ import annotations

from sqlalchemy import select

from backend.extensions import db
from backend.models import Institution


def active_by_code(code: str) -> Institution | None:
    return db.session.scalar(select(Institution).where(Institution.code == code, Institution.active.is_(True)))
