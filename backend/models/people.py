"""Regions, insured people, their platform bindings, chronic-disease qualifications and hospital stays."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, Fen, UtcDateTime, utcnow

PERSON_TYPES = ("employed", "retired", "flexible")
PERSON_STATUSES = ("active", "arrears", "suspended", "terminated")


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)  # "nx", "nm"
    name: Mapped[str] = mapped_column(String(64))


class Person(Base):
    """An insured person. The ID number is stored whole for look-up and shown masked everywhere else."""

    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint(f"person_type IN {PERSON_TYPES}", name="person_type"),
        CheckConstraint(f"status IN {PERSON_STATUSES}", name="status"),
        CheckConstraint("contribution_base_fen >= 0 AND monthly_credit_fen >= 0", name="amounts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    pool_code: Mapped[str | None] = mapped_column(String(16))  # 统筹区 for bookkeeping (NX has several)
    person_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    contribution_base_fen: Mapped[int] = mapped_column(Fen, default=0)
    monthly_credit_fen: Mapped[int] = mapped_column(Fen, default=0)
    # Last month whose contribution has fully arrived ("YYYY-MM"), from the core system's import (NX §5).
    contribution_paid_through: Mapped[str | None] = mapped_column(String(7))
    living_out_of_province: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    bindings: Mapped[list[PlatformBinding]] = relationship(back_populates="person")


class PersonStatusChange(Base):
    """The status history the nightly import brings: each change with the day it took effect (append-only).

    A visit, a manual claim and an estimate are judged by the status in force on their date
    (backend.domain.people.status_on), not by ``Person.status``, which is only today's.
    """

    __tablename__ = "person_status_changes"
    __table_args__ = (
        CheckConstraint(f"status IN {PERSON_STATUSES}", name="status"),
        Index("ix_person_status_changes_person_effective", "person_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    status: Mapped[str] = mapped_column(String(16))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class PlatformBinding(Base):
    """A WeChat or Alipay user bound to an insured person after name + ID number were checked."""

    __tablename__ = "platform_bindings"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))  # "wechat" | "alipay"
    platform_user_id: Mapped[str] = mapped_column(String(128))
    unionid: Mapped[str | None] = mapped_column(String(128))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    bound_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="bindings")


class ChronicQualification(Base):
    """A chronic/special disease (门诊慢特病) qualification certified by a 认定医院 (NX §15–§17)."""

    __tablename__ = "chronic_qualifications"
    __table_args__ = (Index("ix_chronic_person_disease", "person_id", "disease_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    disease_code: Mapped[str] = mapped_column(String(32))
    disease_name: Mapped[str] = mapped_column(String(128))
    certified_by_institution_id: Mapped[int | None] = mapped_column(ForeignKey("institutions.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    cap_adjustment_fen: Mapped[int] = mapped_column(Fen, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class HospitalStay(Base):
    """Admission and discharge posted by an institution; general outpatient pooling pauses meanwhile (NM §12)."""

    __tablename__ = "hospital_stays"
    __table_args__ = (UniqueConstraint("institution_id", "admission_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    admission_no: Mapped[str] = mapped_column(String(64))
    admitted_on: Mapped[dt.date] = mapped_column(Date)
    discharged_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
