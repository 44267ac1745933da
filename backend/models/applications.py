"""Applications (manual reimbursement, one-time payout, chronic cap adjustment) and their review steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, JsonDocument, UtcDateTime, utcnow

APPLICATION_KINDS = ("reimbursement", "payout", "chronic_cap_adjust")


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_status_step", "status", "current_step"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)  # the insured person concerned
    applicant_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))  # e.g. an heir (NX §9)
    filed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    status: Mapped[str] = mapped_column(String(24))
    current_step: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    claimed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    step_entered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    submitted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    steps: Mapped[list[ReviewStepRecord]] = relationship(
        back_populates="application", order_by="ReviewStepRecord.id", cascade="all"
    )
    attachments: Mapped[list[Attachment]] = relationship(back_populates="application", cascade="all")


class ReviewStepRecord(Base):
    """One decision on one step; appended, never edited. Time in step = decided_at − entered_at."""

    __tablename__ = "review_step_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decision: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(48))
    comment: Mapped[str] = mapped_column(String(1000), default="")
    entered_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="steps")


class Attachment(Base):
    """An uploaded file; the bytes live on disk under UPLOAD_DIR, named by their hash."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # invoice | fee_list | certificate | promise | other
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(400))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="attachments")


class InvoiceClaim(Base):
    """An invoice number held by an open reimbursement application (NX §25: the same fee is never paid twice).

    The primary key makes two applications racing with the same invoice collide in the database; the claim is
    released when its application is rejected or withdrawn. Once paid, the number is in ``invoice_records`` too.
    """

    __tablename__ = "invoice_claims"

    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    claimed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
