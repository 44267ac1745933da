"""Smart monitoring (NX §33): flags raised by the rules in backend/policies/monitoring_rules.json, reviewed by staff."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, Fen, JsonDocument, UtcDateTime, utcnow

FLAG_STATUSES = ("open", "confirmed", "dismissed")


class MonitoringFlag(Base):
    """One finding of one rule about one subject in one period. ``subject_key`` makes a rerun of the scan find the
    flag it already raised instead of raising it twice."""

    __tablename__ = "monitoring_flags"
    __table_args__ = (
        UniqueConstraint("rule_code", "subject_key"),
        CheckConstraint(f"status IN {FLAG_STATUSES}", name="status"),
        Index("ix_monitoring_flags_status_detected", "status", "detected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_code: Mapped[str] = mapped_column(String(48))
    subject_key: Mapped[str] = mapped_column(String(160))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    period: Mapped[str] = mapped_column(String(32))  # the day or month the finding is about
    measured: Mapped[int] = mapped_column(Fen)  # the value compared with the threshold (a count, fen or basis points)
    threshold: Mapped[int] = mapped_column(Fen)
    details: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    detected_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    reviewed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    review_comment: Mapped[str | None] = mapped_column(String(1000))
